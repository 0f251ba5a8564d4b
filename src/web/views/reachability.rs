//! The reachability pages: a member's addresses, the verification link and the admin overview.

use serde::Serialize;

use super::{Errors, Layout, Page, Pager};
use crate::services::reachability::{Address, AddressRef, MAX_ADDRESSES, MemberAddresses};
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

/// `account/addresses.html`: the member's addresses and the form that adds one.
#[derive(Debug, Clone, Serialize)]
pub struct AddressesPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// The addresses, the account's email first.
    pub addresses: Vec<AddressItem>,
    /// How many there are.
    pub count: usize,
    /// How many a member may have.
    pub max: usize,
    /// Another one may be added.
    pub can_add: bool,
    /// The address typed last time.
    pub typed: String,
    /// Field errors.
    pub errors: Errors,
}

impl Page for AddressesPage {
    const TEMPLATE: &'static str = "account/addresses.html";
}

impl AddressesPage {
    /// The page for `addresses`, with the add form's `typed` value and `errors`.
    pub fn new(
        layout: Layout,
        site: &SiteSettings,
        addresses: &[Address],
        typed: String,
        errors: Errors,
    ) -> Self {
        let addresses: Vec<_> = addresses.iter().map(|a| address_item(site, a)).collect();
        Self {
            layout,
            count: addresses.len(),
            can_add: addresses.len() < MAX_ADDRESSES,
            addresses,
            max: MAX_ADDRESSES,
            typed,
            errors,
        }
    }
}

/// `account/verify.html`: which address a link confirms, or why it cannot.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyPage {
    /// The site layout (with the form token: the link works without a login).
    #[serde(flatten)]
    pub layout: Layout,
    /// The link's token (the form posts back to it).
    pub token: String,
    /// The address was verified.
    pub done: bool,
    /// The address.
    pub address: String,
    /// Why the link cannot be used (a translation key).
    pub problem: Option<&'static str>,
}

impl Page for VerifyPage {
    const TEMPLATE: &'static str = "account/verify.html";
}

/// `admin/reachability.html`: every enabled member's addresses and their status.
#[derive(Debug, Clone, Serialize)]
pub struct ReachabilityPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// This page's members.
    pub members: Vec<MemberAddressesItem>,
    /// Links to the other pages.
    pub pager: Pager,
}

impl Page for ReachabilityPage {
    const TEMPLATE: &'static str = "admin/reachability.html";
}
