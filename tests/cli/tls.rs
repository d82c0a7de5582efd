//! Corporate networks: the sandbox behind TLS with a certificate authority made in the test,
//! trusted with `--cacert` or `SSL_CERT_FILE` and refused, with a clear message, without them;
//! and the same through a local CONNECT proxy named by `HTTPS_PROXY`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::{fhircheck_env, snap, Target};

/// A CA and a certificate for `localhost` signed by it.
struct Pki {
    ca_pem: String,
    ca_der: CertificateDer<'static>,
    leaf: CertificateDer<'static>,
    key: Vec<u8>,
    /// A client certificate and its key (PEM), for mutual TLS.
    client_pem: String,
    client_key_pem: String,
}

fn pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "fhircheck test CA");
    ca.distinguished_name
        .push(DnType::OrganizationName, "Contoso Network Security");
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let mut leaf = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    leaf.distinguished_name
        .push(DnType::CommonName, "localhost");
    let leaf_key = KeyPair::generate().unwrap();
    let leaf_cert = leaf.signed_by(&leaf_key, &ca_cert, &ca_key).unwrap();
    let mut client = CertificateParams::new(Vec::<String>::new()).unwrap();
    client
        .distinguished_name
        .push(DnType::CommonName, "fhircheck client");
    // The client's key is a fixture: its encrypted copies are tried with --ssl-client-passphrase.
    let client_key = KeyPair::from_pem(
        &std::fs::read_to_string(crate::fixture("certs/mtls-client.key.pem")).unwrap(),
    )
    .unwrap();
    let client_cert = client.signed_by(&client_key, &ca_cert, &ca_key).unwrap();
    Pki {
        ca_pem: ca_cert.pem(),
        ca_der: ca_cert.der().clone(),
        leaf: leaf_cert.der().clone(),
        key: leaf_key.serialize_der(),
        client_pem: client_cert.pem(),
        client_key_pem: client_key.serialize_pem(),
    }
}

/// Servers of one test on their own runtime thread, stopped when the runtime drops.
struct Servers {
    _rt: tokio::runtime::Runtime,
    tls: SocketAddr,
    proxy: SocketAddr,
    /// The CONNECT targets the proxy was asked for.
    connects: Arc<Mutex<Vec<String>>>,
}

/// TLS on a loopback port, forwarding the plain bytes to `upstream` (the sandbox); and a
/// CONNECT proxy.
fn servers(pki: &Pki, upstream: SocketAddr) -> Servers {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![pki.leaf.clone()],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.key.clone())),
    )
    .unwrap();
    let connects = Arc::new(Mutex::new(vec![]));
    let tls_addr = tls_front(&rt, config, upstream);
    let proxy = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let proxy_addr = proxy.local_addr().unwrap();
    let seen = connects.clone();
    rt.spawn(async move {
        while let Ok((mut tcp, _)) = proxy.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut b = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if tcp.read(&mut b).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(b[0]);
                }
                let line = String::from_utf8_lossy(&head)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string();
                let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
                seen.lock().unwrap().push(line.clone());
                // The test's hosts only: localhost is the TLS server.
                let addr = target.replace("localhost", "127.0.0.1");
                let Ok(mut up) = TcpStream::connect(addr).await else {
                    let _ = tcp.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                    return;
                };
                let _ = tcp
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await;
                let _ = tokio::io::copy_bidirectional(&mut tcp, &mut up).await;
            });
        }
    });
    Servers {
        _rt: rt,
        tls: tls_addr,
        proxy: proxy_addr,
        connects,
    }
}

/// TLS that asks for a client certificate signed by the test CA, in front of `upstream`.
fn mutual_tls(pki: &Pki, upstream: SocketAddr) -> (tokio::runtime::Runtime, SocketAddr) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca_der.clone()).unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![pki.leaf.clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.key.clone())),
        )
        .unwrap();
    let addr = tls_front(&rt, config, upstream);
    (rt, addr)
}

/// TLS with `config` on a loopback port of `rt`, forwarding the plain bytes to `upstream`.
fn tls_front(
    rt: &tokio::runtime::Runtime,
    config: rustls::ServerConfig,
    upstream: SocketAddr,
) -> SocketAddr {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                if let Ok(mut up) = TcpStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
                }
            });
        }
    });
    addr
}

#[test]
fn a_client_certificate_for_servers_that_ask_for_one() {
    let t = Target::start("healthy");
    let pki = pki();
    let upstream: SocketAddr = t
        .sandbox
        .endpoints
        .base
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let (_rt, addr) = mutual_tls(&pki, upstream);
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let (ca, cert, key) = (
        file("ca.pem", &pki.ca_pem),
        file("client.pem", &pki.client_pem),
        file("client.key", &pki.client_key_pem),
    );
    let c = file("tls.json", COLLECTION);
    let url = format!("fhir_url=https://localhost:{}/fhir", addr.port());
    let ran = fhircheck_env(&["run", &c, "--var", &url, "--cacert", &ca], &[]);
    assert_eq!(ran.code, 4, "no client certificate: {}", ran.stdout);
    let ran = fhircheck_env(
        &[
            "run",
            &c,
            "--var",
            &url,
            "--cacert",
            &ca,
            "--ssl-client-cert",
            &cert,
            "--ssl-client-key",
            &key,
        ],
        &[],
    );
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    // The same key, encrypted both ways OpenSSL writes it.
    for encrypted in [
        "certs/mtls-client.pkcs8-encrypted.pem",
        "certs/mtls-client.legacy-encrypted.pem",
    ] {
        let key = crate::fixture(encrypted).display().to_string();
        let with = |pass: Option<&str>| {
            let mut args = vec![
                "run",
                &c,
                "--var",
                &url,
                "--cacert",
                &ca,
                "--ssl-client-cert",
                &cert,
                "--ssl-client-key",
                &key,
                "-v",
            ];
            if let Some(p) = pass {
                args.extend(["--ssl-client-passphrase", p]);
            }
            fhircheck_env(&args, &[])
        };
        let ran = with(None);
        assert_eq!(ran.code, 2, "{encrypted}: {}", ran.stderr);
        assert!(
            ran.stderr
                .contains("give its passphrase with --ssl-client-passphrase"),
            "{}",
            ran.stderr
        );
        let ran = with(Some("not-the-passphrase"));
        assert_eq!(ran.code, 2, "{encrypted}: {}", ran.stderr);
        assert!(
            ran.stderr
                .contains("the passphrase does not decrypt the key"),
            "{}",
            ran.stderr
        );
        assert!(!ran.stderr.contains("not-the-passphrase"), "{}", ran.stderr);
        let ran = with(Some("mtls-key-passphrase"));
        assert_eq!(ran.code, 0, "{encrypted}: {}{}", ran.stdout, ran.stderr);
        assert!(!format!("{}{}", ran.stdout, ran.stderr).contains("mtls-key-passphrase"));
    }
}

const COLLECTION: &str = r#"{
  "name": "TLS reachability",
  "base_url": "{{fhir_url}}",
  "requests": [
    { "name": "CapabilityStatement", "url": "metadata", "auth": "none",
      "expect": { "status": 200, "resource_type": "CapabilityStatement" } }
  ]
}"#;

#[test]
fn a_private_ca_is_trusted_with_cacert_or_ssl_cert_file_and_named_without() {
    let t = Target::start("healthy");
    let pki = pki();
    let upstream: SocketAddr = t
        .sandbox
        .endpoints
        .base
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let s = servers(&pki, upstream);
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("contoso-ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let collection = dir.path().join("tls.json");
    std::fs::write(&collection, COLLECTION).unwrap();
    let url = format!("fhir_url=https://localhost:{}/fhir", s.tls.port());
    let c = collection.to_str().unwrap();
    let ca = ca.to_str().unwrap();
    let ca_dir = dir.path().to_str().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let empty_dir = empty.path().to_str().unwrap();
    // Without the CA: refused, naming the certificate and its issuer, with the ways to trust it.
    let ran = fhircheck_env(&["run", c, "--var", &url], &[("SSL_CERT_DIR", empty_dir)]);
    assert_eq!(ran.code, 4, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout
            .contains("issued by `CN=fhircheck test CA, O=Contoso Network Security`"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("--cacert FILE"), "{}", ran.stdout);
    snap!("tls_untrusted_ca", ran.stdout);
    // -k (Newman's --insecure) skips the check, and says what that costs.
    let ran = fhircheck_env(
        &["run", c, "--var", &url, "-k"],
        &[("SSL_CERT_DIR", empty_dir)],
    );
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stderr.contains("TLS certificates are not checked"),
        "{}",
        ran.stderr
    );
    // --cacert, before or after the subcommand; Newman's --ssl-extra-ca-certs.
    let ran = fhircheck_env(
        &["run", c, "--var", &url, "--ssl-extra-ca-certs", ca],
        &[("SSL_CERT_DIR", empty_dir)],
    );
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let ran = fhircheck_env(&["run", c, "--var", &url, "--cacert", ca], &[]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let ran = fhircheck_env(&["--cacert", ca, "run", c, "--var", &url], &[]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    // SSL_CERT_FILE, as OpenSSL and curl read it.
    let ran = fhircheck_env(&["run", c, "--var", &url], &[("SSL_CERT_FILE", ca)]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    // SSL_CERT_DIR, a directory of certificates.
    let ran = fhircheck_env(&["run", c, "--var", &url], &[("SSL_CERT_DIR", ca_dir)]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    // Through a CONNECT proxy.
    let proxy = format!("http://127.0.0.1:{}", s.proxy.port());
    let ran = fhircheck_env(
        &["run", c, "--var", &url, "--cacert", ca],
        &[("HTTPS_PROXY", proxy.as_str())],
    );
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let seen = s.connects.lock().unwrap().clone();
    assert!(
        seen.iter()
            .any(|l| l.starts_with(&format!("CONNECT localhost:{}", s.tls.port()))),
        "{seen:?}"
    );
    // NO_PROXY exempts the host.
    let before = s.connects.lock().unwrap().len();
    let ran = fhircheck_env(
        &["run", c, "--var", &url, "--cacert", ca],
        &[("HTTPS_PROXY", proxy.as_str()), ("NO_PROXY", "localhost")],
    );
    assert_eq!(ran.code, 0, "{}", ran.stdout);
    assert_eq!(s.connects.lock().unwrap().len(), before);
}

#[test]
fn a_cacert_that_is_not_a_certificate_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("not-a-cert.pem");
    std::fs::write(&bad, "hello").unwrap();
    let ran = fhircheck_env(&["--cacert", bad.to_str().unwrap(), "run"], &[]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr.contains("no PEM certificate in it"),
        "{}",
        ran.stderr
    );
    let ran = fhircheck_env(&["run", "--cacert", "/nonexistent/ca.pem"], &[]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr.contains("cannot read the file"),
        "{}",
        ran.stderr
    );
}
