//! What a server's certificate says, for a TLS failure's message: a second handshake that
//! accepts any certificate, only to read the chain the server presents (subject, issuer,
//! validity), and a small reader for those fields of an X.509 certificate.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// The fields of one certificate a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
}

/// A verifier that trusts everything and keeps the chain: used only to describe a certificate
/// that the real client refused. Nothing is sent over the connection it makes.
#[derive(Debug)]
struct Recorder {
    chain: Mutex<Vec<Vec<u8>>>,
    schemes: Vec<SignatureScheme>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut chain = self.chain.lock().unwrap_or_else(|e| e.into_inner());
        chain.push(end_entity.to_vec());
        chain.extend(intermediates.iter().map(|c| c.to_vec()));
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.schemes.clone()
    }
}

/// The chain `host:port` presents, leaf first, reached directly or through an HTTP proxy's
/// CONNECT. Blocking, bounded by `timeout`; `None` when it can not be read.
pub fn presented_chain(
    host: &str,
    port: u16,
    proxy: Option<(&str, u16)>,
    timeout: Duration,
) -> Option<Vec<CertInfo>> {
    let provider = rustls::crypto::ring::default_provider();
    let recorder = Arc::new(Recorder {
        chain: Mutex::new(vec![]),
        schemes: provider
            .signature_verification_algorithms
            .supported_schemes(),
    });
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .ok()?
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone())
        .with_no_client_auth();
    let name = ServerName::try_from(host.to_string()).ok()?;
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name).ok()?;
    let (to_host, to_port) = proxy.unwrap_or((host, port));
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&(to_host, to_port))
        .ok()?
        .next()?;
    let mut tcp = TcpStream::connect_timeout(&addr, timeout).ok()?;
    tcp.set_read_timeout(Some(timeout)).ok()?;
    tcp.set_write_timeout(Some(timeout)).ok()?;
    if proxy.is_some() {
        connect_through(&mut tcp, host, port)?;
    }
    // Bounded: a server that answers nothing, or trickles, ends the look (reads time out too).
    for _ in 0..32 {
        if !conn.is_handshaking() || conn.complete_io(&mut tcp).is_err() {
            break;
        }
    }
    let chain = recorder.chain.lock().ok()?.clone();
    let infos: Vec<CertInfo> = chain.iter().filter_map(|der| cert_info(der)).collect();
    (!infos.is_empty()).then_some(infos)
}

/// `CONNECT host:port` on a proxy connection; true when the proxy answered 2xx.
fn connect_through(tcp: &mut TcpStream, host: &str, port: u16) -> Option<()> {
    write!(
        tcp,
        "CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n"
    )
    .ok()?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
        if tcp.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let status = String::from_utf8_lossy(&head);
    status
        .split_whitespace()
        .nth(1)
        .filter(|s| s.starts_with('2'))
        .map(|_| ())
}

/// One DER element: (tag, contents, rest).
fn element(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |a, b| (a << 8) | *b as usize);
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// Subject and issuer of a DER certificate.
pub fn cert_info(der: &[u8]) -> Option<CertInfo> {
    let (_, cert, _) = element(der)?;
    let (_, tbs, _) = element(cert)?;
    let mut rest = tbs;
    // [0] version, when present.
    if rest.first() == Some(&0xa0) {
        rest = element(rest)?.2;
    }
    let (_, _serial, r) = element(rest)?;
    let (_, _algorithm, r) = element(r)?;
    let (_, issuer, r) = element(r)?;
    let (_, _validity, r) = element(r)?;
    let (_, subject, _) = element(r)?;
    Some(CertInfo {
        subject: name_text(subject),
        issuer: name_text(issuer),
    })
}

/// A Name as `CN=…, O=…` (common name and organisation first; other parts as they come).
fn name_text(mut name: &[u8]) -> String {
    let mut parts = Vec::new();
    while let Some((_, set, rest)) = element(name) {
        name = rest;
        let mut set = set;
        while let Some((_, pair, r)) = element(set) {
            set = r;
            let Some((_, oid, value)) = element(pair) else {
                continue;
            };
            let Some((_, text, _)) = element(value) else {
                continue;
            };
            let key = match oid {
                [0x55, 0x04, 0x03] => "CN",
                [0x55, 0x04, 0x0a] => "O",
                [0x55, 0x04, 0x0b] => "OU",
                [0x55, 0x04, 0x06] => "C",
                _ => continue,
            };
            parts.push(format!("{key}={}", String::from_utf8_lossy(text)));
        }
    }
    if parts.is_empty() {
        "(no name)".into()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_subject_and_issuer_and_survives_garbage() {
        use base64::Engine;
        let pem = include_str!("sandbox/credentials/sandbox-client.crt");
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap();
        let info = cert_info(&der).unwrap();
        assert!(info.subject.contains("CN="), "{info:?}");
        assert!(info.issuer.contains("CN="), "{info:?}");
        for n in 0..der.len().min(200) {
            let _ = cert_info(&der[..n]);
        }
        assert_eq!(cert_info(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), None);
    }
}
