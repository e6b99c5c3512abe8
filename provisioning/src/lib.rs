//! Business website -> agent knowledge, prompt and greeting. Filled in by the provisioning issue.
