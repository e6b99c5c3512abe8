//! Facts with provenance from crawled pages.

pub(crate) mod doc;
pub mod evidence;
pub mod hours;
pub(crate) mod jsonld;
pub(crate) mod microdata;
pub mod text;
