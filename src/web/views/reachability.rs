//! Contexts for the reachability pages: a member's addresses and the admin overview.

use serde::Serialize;

use crate::services::reachability::{Address, AddressRef, MemberAddresses};
use crate::services::site::SiteSettings;

/// One address with its status.
#[derive(Debug, Clone, Serialize)]
pub struct AddressItem {
    /// `account` or the row id, as used in `/me/addresses/{id}/…`.
    pub id: String,
    /// The address.
    pub address: String,
    /// Whether it is the account's own email.
    pub is_account: bool,
    /// `verified`, `unverified` or `bouncing`.
    pub status: &'static str,
    /// When it was last verified (local date), or empty.
    pub verified: String,
    /// What the mail server said when it bounced, or empty.
    pub error: String,
}

/// Builds an address row.
pub fn address_item(site: &SiteSettings, a: &Address) -> AddressItem {
    AddressItem {
        id: a.which.to_param(),
        address: a.address.clone(),
        is_account: a.which == AddressRef::Account,
        status: a.status.as_str(),
        verified: a
            .verified_at
            .map(|t| site.local_date(t))
            .unwrap_or_default(),
        error: a.bounce_error.clone().unwrap_or_default(),
    }
}

/// One member of the admin overview.
#[derive(Debug, Clone, Serialize)]
pub struct MemberAddressesItem {
    /// The login name.
    pub login: String,
    /// The display name.
    pub display_name: String,
    /// The addresses, the account email first.
    pub addresses: Vec<AddressItem>,
}

/// Builds a member row of the admin overview.
pub fn member_addresses_item(site: &SiteSettings, m: &MemberAddresses) -> MemberAddressesItem {
    MemberAddressesItem {
        login: m.user.login.clone(),
        display_name: m.user.display_name.clone(),
        addresses: m.addresses.iter().map(|a| address_item(site, a)).collect(),
    }
}
