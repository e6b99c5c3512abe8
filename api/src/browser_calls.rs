//! Who may start a browser call (`POST /webrtc/offer`): the API's own tokens, confined to their tenant.

use std::sync::Arc;

use dialtone_telephony::webrtc::{CallDenied, TokenCheck};
use tracing::warn;

use crate::ApiContext;
use crate::directory::StoreDirectory;

/// A [`TokenCheck`] over the API's keys (`sk_live_...`) and access tokens (`at_...`): any valid one, with
/// no particular scope, may call a file agent (those belong to the install); a store agent answers only
/// tokens of its own tenant, and to others it does not exist.
pub fn browser_call_check(ctx: ApiContext, directory: Arc<StoreDirectory>) -> TokenCheck {
    Arc::new(move |token, agent| {
        let ctx = ctx.clone();
        let directory = Arc::clone(&directory);
        Box::pin(async move {
            let Some(token) = token else {
                return Err(CallDenied::Unauthorized);
            };
            let store = &ctx.store;
            let principal = if token.starts_with("sk_live_") {
                store.verify_api_key(&token).await
            } else if token.starts_with("at_") {
                store.verify_access_token(&token, ctx.now_ms()).await
            } else {
                return Err(CallDenied::Unauthorized);
            };
            let principal = match principal {
                Ok(Some(found)) => found,
                Ok(None) => return Err(CallDenied::Unauthorized),
                Err(e) => {
                    warn!(error = %e, "could not check a browser call's token");
                    return Err(CallDenied::Unauthorized);
                }
            };
            // A store agent answers only its own tenant's tokens; file agents belong to the install
            // and answer any valid token.
            let owner = agent.and_then(|a| directory.entry(&a.id).map(|e| e.tenant_id.clone()));
            match owner {
                Some(tenant) if tenant != principal.tenant_id => Err(CallDenied::NotFound),
                _ => Ok(()),
            }
        })
    })
}
