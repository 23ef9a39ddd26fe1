//! A webhook: the event as JSON, with its message, signed when a secret is set
//! (`X-Shipgate-Signature-256: sha256=<hex HMAC-SHA256 of the body>`, as GitHub signs its
//! webhooks) and carrying its delivery id (`X-Shipgate-Delivery`), the same on every retry,
//! so that a receiver can verify it and drop duplicates.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use shipgate_pipeline::Record;

use crate::message::Message;

/// The body: the delivery id, the event's name, the message, and the event itself.
pub fn body(id: &str, record: &Record, m: &Message) -> Value {
    json!({
        "id": id,
        "event": m.event,
        "message": {
            "title": m.title,
            "text": m.text,
            "severity": m.severity,
            "links": m.links,
        },
        "record": record,
    })
}

/// `sha256=<hex>` of `body` under `secret`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_rfc_4231s_hmac_sha256() {
        // RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?"
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
