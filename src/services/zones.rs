//! Time zones people choose: the list `/me` offers (IANA `Area/Place` names from chrono-tz,
//! grouped by area), what a posted choice means, and whose zone a page is shown in.

use chrono_tz::{TZ_VARIANTS, Tz};

use super::Actor;
use super::site::SiteSettings;

/// The areas whose `Area/Place` zones are offered; the tz database's other names (`US/Eastern`,
/// `EST5EDT`, `Etc/GMT+5`) are old aliases or offsets that nobody picks from a list.
const AREAS: [&str; 10] = [
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
];

/// One area's zones, sorted by name.
#[derive(Debug, Clone)]
pub struct ZoneGroup {
    /// The area (`Europe`).
    pub area: &'static str,
    /// Its zones' full names (`Europe/Berlin`).
    pub zones: Vec<&'static str>,
}

/// Whether `name` is one of the zones offered (`UTC` included).
pub fn offered(name: &str) -> bool {
    name == "UTC"
        || (name
            .split_once('/')
            .is_some_and(|(area, _)| AREAS.contains(&area))
            && name.parse::<Tz>().is_ok())
}

/// The zones offered, by area (areas in alphabetical order, then `UTC` alone).
pub fn groups() -> Vec<ZoneGroup> {
    let mut groups: Vec<ZoneGroup> = AREAS
        .iter()
        .map(|area| {
            let mut zones: Vec<&'static str> = TZ_VARIANTS
                .iter()
                .map(|z| z.name())
                .filter(|n| n.split_once('/').is_some_and(|(a, _)| a == *area))
                .collect();
            zones.sort_unstable();
            ZoneGroup { area, zones }
        })
        .collect();
    groups.push(ZoneGroup {
        area: "UTC",
        zones: vec!["UTC"],
    });
    groups
}

/// A posted zone that is not one of those offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownZone;

/// A posted choice: empty is "the site's zone" (`Ok(None)`), a zone offered is itself, anything
/// else is refused.
pub fn parse_choice(posted: &str) -> Result<Option<Tz>, UnknownZone> {
    let name = posted.trim();
    if name.is_empty() {
        return Ok(None);
    }
    if !offered(name) {
        return Err(UnknownZone);
    }
    name.parse::<Tz>().map(Some).map_err(|_| UnknownZone)
}

/// The zone a page is shown to `actor` in: their own, else the site's (anonymous visitors too).
pub fn zone_for(site: &SiteSettings, actor: Option<&Actor>) -> Tz {
    actor.and_then(|a| a.tz).unwrap_or(site.timezone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_holds_the_usual_zones_sorted_and_no_aliases() {
        let g = groups();
        let all: Vec<&str> = g.iter().flat_map(|g| g.zones.iter().copied()).collect();
        for z in ["Asia/Tokyo", "Europe/Berlin", "America/New_York", "UTC"] {
            assert!(all.contains(&z), "{z}");
        }
        for z in ["US/Eastern", "EST5EDT", "Etc/GMT+5", "Japan"] {
            assert!(!all.contains(&z), "{z}");
            assert!(!offered(z), "{z}");
        }
        for group in &g {
            let mut sorted = group.zones.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, group.zones);
        }
    }

    #[test]
    fn a_choice_is_empty_a_zone_offered_or_refused() {
        assert_eq!(parse_choice(""), Ok(None));
        assert_eq!(
            parse_choice(" Europe/Berlin "),
            Ok(Some(chrono_tz::Europe::Berlin))
        );
        assert_eq!(parse_choice("Mars/Olympus"), Err(UnknownZone));
        assert_eq!(parse_choice("europe/berlin"), Err(UnknownZone));
        assert_eq!(parse_choice("Europe/"), Err(UnknownZone));
    }

    #[test]
    fn a_person_without_a_zone_sees_the_sites() {
        let site = SiteSettings::default();
        let mut a = Actor {
            id: 1,
            is_admin: false,
            tz: None,
        };
        assert_eq!(zone_for(&site, None), chrono_tz::Asia::Tokyo);
        assert_eq!(zone_for(&site, Some(&a)), chrono_tz::Asia::Tokyo);
        a.tz = Some(chrono_tz::Europe::Berlin);
        assert_eq!(zone_for(&site, Some(&a)), chrono_tz::Europe::Berlin);
    }
}
