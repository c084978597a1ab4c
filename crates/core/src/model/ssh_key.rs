//! SSH public keys.

use crate::error::{Error, Result};
use crate::ids::{ProjectId, SshKeyId};
use crate::labels::Labels;
use chrono::{DateTime, Utc};
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SshKey {
    pub id: SshKeyId,
    pub project: ProjectId,
    pub name: String,
    /// MD5 of the key blob as colon-separated hex, as Hetzner shows it.
    pub fingerprint: String,
    /// The key in OpenSSH format, as given (trimmed).
    pub public_key: String,
    pub labels: Labels,
    pub created: DateTime<Utc>,
}

/// Parses an OpenSSH public key and returns its MD5 fingerprint (`aa:bb:...`).
pub fn fingerprint(public_key: &str) -> Result<String> {
    let key = ssh_key::PublicKey::from_openssh(public_key.trim())
        .map_err(|e| Error::invalid_field("public_key", format!("invalid public key: {e}")))?;
    let blob = key.to_bytes().map_err(|e| Error::invalid_field("public_key", format!("invalid public key: {e}")))?;
    let digest = Md5::digest(&blob);
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":"))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Generated once with ssh-keygen -t ed25519; `ssh-keygen -l -E md5` printed this fingerprint.
    const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHgnGgZqXH9IgPUMbzJzht9RumczokyGm5kyIFsplG/R test@example";
    const MD5: &str = "a9:b6:cc:3d:45:0e:d0:fb:14:b5:eb:5a:2c:f5:9c:51";

    #[test]
    fn md5_fingerprint_matches_ssh_keygen() {
        assert_eq!(fingerprint(KEY).unwrap(), MD5);
    }

    #[test]
    fn garbage_is_invalid_input() {
        for bad in ["", "ssh-rsa", "ssh-rsa AAAAnotbase64!", "hello world"] {
            assert!(matches!(fingerprint(bad), Err(Error::InvalidInput { .. })), "{bad}");
        }
    }
}
