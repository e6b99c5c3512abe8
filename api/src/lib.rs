//! The REST API, store, jobs and webhooks. Filled in by the API issue.
