//! The REST API v2 of Dialtone: routers, auth, jobs and webhooks over the [`store`].

pub mod store;
