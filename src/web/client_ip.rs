//! The client's address: the peer, or what a trusted reverse proxy says in `X-Forwarded-For`.

use std::net::IpAddr;

use actix_web::dev::ServiceRequest;

/// The client address: the peer, or, when the peer is a trusted proxy, what `X-Forwarded-For`
/// says (see `forwarded_client`).
pub fn client_ip(req: &ServiceRequest, trusted: &[ipnet::IpNet]) -> IpAddr {
    let peer = req
        .peer_addr()
        .map_or(IpAddr::from([127, 0, 0, 1]), |a| a.ip());
    // A line that is not text is garbage, and garbage stops the walk (see `forwarded_client`).
    let lines = req
        .headers()
        .get_all("x-forwarded-for")
        .map(|v| v.to_str().unwrap_or("\u{0}"));
    forwarded_client(peer, lines, |ip| trusted.iter().any(|n| n.contains(ip)))
}

/// The client behind a chain of proxies. Only a trusted peer's `X-Forwarded-For` is believed. Several
/// header lines are one list, in order (RFC 9110 §5.3); each proxy appends the address it saw, so
/// the list is read from the right, skipping the trusted proxies, and the first address that is not
/// one is the client: everything left of it was written by that client and may be forged. A hop may
/// carry a port (`192.0.2.1:4711`, `[2001:db8::1]:4711`, as some proxies write it). A hop that is
/// no address at all ends the walk at the last trusted proxy, so a malformed header never lets a
/// client choose its own rate-limit key.
pub fn forwarded_client<'a>(
    peer: IpAddr,
    lines: impl IntoIterator<Item = &'a str>,
    is_trusted: impl Fn(&IpAddr) -> bool,
) -> IpAddr {
    let peer = peer.to_canonical();
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = lines
        .into_iter()
        .flat_map(|line| line.split(','))
        .map(str::trim)
        // An empty list element (`a,,b`) carries nothing (RFC 9110 §5.6.1).
        .filter(|hop| !hop.is_empty())
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match parse_hop(hop) {
            Some(ip) if is_trusted(&ip) => client = ip,
            Some(ip) => return ip,
            None => return client,
        }
    }
    client
}

/// One `X-Forwarded-For` hop: an address, with or without a port (`[v6]:port` for IPv6).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim_matches('"');
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Ok(sa) = hop.parse::<std::net::SocketAddr>() {
        return Some(sa.ip().to_canonical());
    }
    hop.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .and_then(|h| h.parse::<std::net::Ipv6Addr>().ok())
        .map(|ip| IpAddr::V6(ip).to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// `forwarded_client` with the proxies 127.0.0.1, `::1` and 10.0.0.0/8 trusted.
    fn client(peer: &str, lines: &[&str]) -> String {
        let trusted: Vec<ipnet::IpNet> = ["127.0.0.1/32", "::1/128", "10.0.0.0/8"]
            .iter()
            .map(|n| n.parse().unwrap())
            .collect();
        forwarded_client(ip(peer), lines.iter().copied(), |a| {
            trusted.iter().any(|n| n.contains(a))
        })
        .to_string()
    }

    #[test]
    fn the_client_is_the_right_most_address_that_is_not_a_trusted_proxy() {
        let table: &[(&str, &[&str], &str)] = &[
            // An untrusted peer's header is ignored, whatever it says.
            ("192.0.2.9", &["198.51.100.1"], "192.0.2.9"),
            // A trusted peer without a header is the client.
            ("127.0.0.1", &[], "127.0.0.1"),
            ("127.0.0.1", &["198.51.100.1"], "198.51.100.1"),
            // What the client wrote itself (left of the first untrusted hop) is never believed.
            ("127.0.0.1", &["6.6.6.6, 198.51.100.1"], "198.51.100.1"),
            (
                "127.0.0.1",
                &["6.6.6.6, 198.51.100.1, 10.1.2.3"],
                "198.51.100.1",
            ),
            // Several header lines are one list, the last line nearest.
            ("127.0.0.1", &["6.6.6.6", "198.51.100.1"], "198.51.100.1"),
            (
                "127.0.0.1",
                &["6.6.6.6, 198.51.100.1", "10.1.2.3"],
                "198.51.100.1",
            ),
            (
                "127.0.0.1",
                &["198.51.100.1, 10.0.0.2", "10.1.2.3, 127.0.0.1"],
                "198.51.100.1",
            ),
            // Hops with ports.
            ("127.0.0.1", &["198.51.100.1:4711"], "198.51.100.1"),
            (
                "127.0.0.1",
                &["6.6.6.6:1, 198.51.100.1:4711, 10.1.2.3:80"],
                "198.51.100.1",
            ),
            ("127.0.0.1", &["[2001:db8::7]:4711"], "2001:db8::7"),
            ("127.0.0.1", &["2001:db8::7"], "2001:db8::7"),
            ("127.0.0.1", &["[2001:db8::7]"], "2001:db8::7"),
            ("127.0.0.1", &["2001:db8::7, [::1]:443"], "2001:db8::7"),
            ("::1", &["198.51.100.1"], "198.51.100.1"),
            // IPv4-mapped addresses are the IPv4 address (for the trust check too).
            ("::ffff:127.0.0.1", &["::ffff:198.51.100.1"], "198.51.100.1"),
            // Spaces and empty elements.
            (
                "127.0.0.1",
                &["  198.51.100.1 ,, 10.1.2.3 ,"],
                "198.51.100.1",
            ),
            // Only proxies: the left-most one is as far as anything is known.
            ("127.0.0.1", &["10.0.0.2, 10.1.2.3"], "10.0.0.2"),
            // Garbage stops the walk at the last trusted hop, never at what the client wrote.
            ("127.0.0.1", &["198.51.100.1, unknown"], "127.0.0.1"),
            ("127.0.0.1", &["6.6.6.6, junk, 10.1.2.3"], "10.1.2.3"),
            ("127.0.0.1", &["999.1.1.1"], "127.0.0.1"),
        ];
        for (peer, lines, expected) in table {
            assert_eq!(client(peer, lines), *expected, "peer {peer}, {lines:?}");
        }
    }
}
