//! The opt-in token cache (`--token-cache`): tokens kept between runs in one file, mode 0600,
//! in the user's cache directory, keyed by auth kind, token endpoint (authority and tenant),
//! client and resource or scope. A token is only ever used for exactly the key it was got for.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::auth::{ResolvedProfile, Token};
use crate::secret::Secret;

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    entries: Vec<Entry>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    key: String,
    access_token: String,
    token_type: Option<String>,
    expires_at: i64,
}

/// The cache file: `$FHIRCHECK_CACHE_DIR`, else `$XDG_CACHE_HOME/fhircheck`, else
/// `~/.cache/fhircheck` (`~/Library/Caches/fhircheck` on macOS, `%LOCALAPPDATA%\fhircheck` on
/// Windows), then `tokens.json`.
pub fn path(env: &std::collections::HashMap<String, String>) -> Option<PathBuf> {
    let dir = if let Some(d) = env.get("FHIRCHECK_CACHE_DIR").filter(|d| !d.is_empty()) {
        PathBuf::from(d)
    } else if let Some(d) = env.get("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        Path::new(d).join("fhircheck")
    } else if cfg!(windows) {
        Path::new(env.get("LOCALAPPDATA")?).join("fhircheck")
    } else if cfg!(target_os = "macos") {
        Path::new(env.get("HOME")?).join("Library/Caches/fhircheck")
    } else {
        Path::new(env.get("HOME")?).join(".cache/fhircheck")
    };
    Some(dir.join("tokens.json"))
}

/// The cache key of a profile; `None` for profiles whose tokens are not cached (static tokens,
/// anonymous profiles).
pub fn key(p: &ResolvedProfile) -> Option<String> {
    use crate::auth::Credential;
    let source = match &p.credential {
        Credential::None | Credential::Bearer(_) | Credential::Chain { .. } => return None,
        Credential::Federated(f) => match &f.source {
            crate::auth::FederatedSource::File(path) => format!("federated-file:{path}"),
            crate::auth::FederatedSource::GitHub { url, .. } => format!("federated-github:{url}"),
        },
        Credential::Smart(s) => format!("smart:{}:{}", s.kid, s.scope),
        Credential::ManagedIdentity(m) => format!("mi:{}", m.url),
        Credential::AzureCli(c) => {
            format!("az:{}:{}", c.resource, c.tenant.clone().unwrap_or_default())
        }
        Credential::Secret(_) | Credential::Oauth2(_) | Credential::Certificate { .. } => {
            String::new()
        }
    };
    let parts = [
        p.credential.kind().to_string(),
        p.endpoint().unwrap_or_default(),
        p.client_id.clone().unwrap_or_default(),
        p.form_value("resource")
            .or(p.resource.clone())
            .unwrap_or_default(),
        p.form_value("scope").unwrap_or_default(),
        p.form_value("audience").unwrap_or_default(),
        source,
        fingerprint(p),
    ];
    Some(serde_json::to_string(&parts).unwrap_or_default())
}

/// The cache file's entries. Only a regular file is read (a FIFO would never answer); what can
/// not be read is reported, and counts as an empty cache.
/// A digest of the credential itself, so a token got with one secret is never served to a run
/// that has another (a wrong secret must fail, warm cache or not).
fn fingerprint(p: &ResolvedProfile) -> String {
    use crate::auth::{Credential, FormValue};
    let mut material = String::new();
    let mut post = |f: &crate::auth::FormPost| {
        for (_, v) in &f.form {
            if let FormValue::Secret(s) = v {
                material.push_str(s.expose());
            }
        }
        if let Some((_, s)) = &f.basic {
            material.push_str(s.expose());
        }
    };
    match &p.credential {
        Credential::Secret(f) | Credential::Oauth2(f) => post(f),
        Credential::Federated(f) => post(&f.post),
        Credential::Certificate { post: f, key } => {
            post(f);
            material.push_str(key.key_pem.expose());
        }
        Credential::Smart(k) => material.push_str(k.key_pem.expose()),
        Credential::ManagedIdentity(_)
        | Credential::AzureCli(_)
        | Credential::None
        | Credential::Chain { .. }
        | Credential::Bearer(_) => {}
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, material.as_bytes());
    digest.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn load(path: &Path) -> Result<File, String> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(File::default()),
        Err(e) => {
            return Err(format!(
                "the token cache {} can not be read: {e}",
                path.display()
            ))
        }
        Ok(m) if !m.file_type().is_file() => {
            return Err(format!(
                "the token cache {} is not a regular file; it is left alone",
                path.display()
            ))
        }
        Ok(_) => {}
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("the token cache {} can not be read: {e}", path.display()))?;
    Ok(serde_json::from_str(&text).unwrap_or_default())
}

/// A cached token for exactly `key`, valid for at least `margin` more seconds. `Err` says why
/// the cache could not be used.
pub fn get(path: &Path, key: &str, now: i64, margin: i64) -> Result<Option<Token>, String> {
    let file = load(path)?;
    Ok(lookup(file, key, now, margin))
}

fn lookup(file: File, key: &str, now: i64, margin: i64) -> Option<Token> {
    let e = file
        .entries
        .into_iter()
        .find(|e| e.key == key && e.expires_at - now > margin)?;
    let access = Secret::new(e.access_token);
    let claims = crate::auth::Claims::decode(access.expose());
    Some(Token {
        access,
        token_type: e.token_type,
        expires_at: Some(e.expires_at),
        scope: None,
        claims,
    })
}

/// Stores `token` under `key`, dropping expired entries; the file is written whole, mode 0600.
/// `Err` says why it could not be.
pub fn put(path: &Path, key: &str, token: &Token, now: i64) -> Result<(), String> {
    let Some(expires_at) = token.expires_at else {
        return Ok(());
    };
    let mut file = load(path)?;
    file.entries.retain(|e| e.key != key && e.expires_at > now);
    file.entries.push(Entry {
        key: key.to_string(),
        access_token: token.access.expose().to_string(),
        token_type: token.token_type.clone(),
        expires_at,
    });
    write(path, &file).map_err(|e| {
        format!(
            "the token cache {} can not be written ({e}): the next run asks for a new token",
            path.display()
        )
    })
}

fn write(path: &Path, file: &File) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    {
        use std::io::Write;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(serde_json::to_string(file).unwrap_or_default().as_bytes())?;
    }
    std::fs::rename(&tmp, path)
}

/// Deletes the cache file. Returns whether there was one.
pub fn clear(path: &Path) -> std::io::Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}
