//! The website crawler: a business site's useful pages, fetched politely and safely.

pub mod charset;
pub mod links;
pub mod robots;
pub mod sitemap;
pub mod ssrf;
pub mod url;

pub use self::ssrf::{ALLOW_ENV, AddressPolicy, AllowListError, Cidr};
pub use self::url::BusinessUrl;
