//! Helpers every test target shares: running the real binary with a pinned environment, the
//! sandbox as a target, and insta snapshots whose filters mask what changes between runs.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use fhircheck::sandbox::{self, registrations as reg};

/// A sandbox for one test, and an environment file pointing at it.
pub struct Target {
    pub sandbox: sandbox::Background,
    pub dir: tempfile::TempDir,
    pub env_file: PathBuf,
}

impl Target {
    pub fn start(scenario: &str) -> Target {
        Self::with(sandbox::Options {
            scenario: scenario.into(),
            ..Default::default()
        })
    }

    pub fn with(opts: sandbox::Options) -> Target {
        let sandbox = sandbox::Background::start(opts).expect("sandbox starts");
        let dir = tempfile::tempdir().expect("temp dir");
        let env_file = dir.path().join("sandbox.env.json");
        let env = sandbox.endpoints.environment();
        std::fs::write(&env_file, serde_json::to_string_pretty(&env).unwrap()).unwrap();
        Target {
            sandbox,
            dir,
            env_file,
        }
    }

    pub fn fhir_url(&self) -> &str {
        &self.sandbox.endpoints.fhir_url
    }
}

/// The project root, where `collections/` and `fixtures/` are.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Paths relative to the project root, where the binary runs: snapshots show them as typed.
pub fn smoke() -> PathBuf {
    PathBuf::from("collections/azure-fhir-smoke.json")
}

/// A loopback port that was free a moment ago (bound, noted, closed): nothing listens there.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a loopback port")
        .port()
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new("fixtures").join(name)
}

/// What a run printed.
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    /// Exit code, stdout and stderr, for a snapshot (whose filters mask what varies).
    pub fn snapshot(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs the binary in `root()` with a clean, pinned environment.
pub fn fhircheck(args: &[&str]) -> Ran {
    fhircheck_env(args, &[])
}

pub fn fhircheck_env(args: &[&str], env: &[(&str, &str)]) -> Ran {
    fhircheck_in(root(), args, env)
}

/// `fhircheck` run in `dir`, with the variables a test sets and none of the machine's
/// credentials.
pub fn fhircheck_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Ran {
    let mut cmd =
        assert_cmd::Command::cargo_bin("fhircheck").expect("the fhircheck binary is built");
    cmd.args(args).current_dir(dir);
    for k in [
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_AUTHORITY_HOST",
        "FHIR_URL",
        "GITHUB_ACTIONS",
        "CLICOLOR_FORCE",
        "AZURE_CLIENT_CERTIFICATE_PATH",
        "AZURE_FEDERATED_TOKEN_FILE",
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "HTTPS_PROXY",
        "https_proxy",
    ] {
        cmd.env_remove(k);
    }
    // The credential chain's managed identity link asks here, where nothing listens, rather
    // than at the VM metadata service's address.
    cmd.env("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9");
    cmd.env("NO_COLOR", "1").env("COLUMNS", "100");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("fhircheck runs");
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The sandbox's fixed identities stay readable in snapshots; every other GUID is random.
const FIXED_IDS: &[&str] = &[
    reg::TENANT,
    reg::OTHER_TENANT,
    reg::CLIENT_ID,
    reg::CLIENT_OID,
    reg::SECRET_ID,
    reg::FHIR_APP_ID,
    reg::HEALTHCARE_APIS_APP_ID,
    reg::UNKNOWN_CLIENT_ID,
    reg::UNKNOWN_TENANT,
];

/// What changes between runs, masked in every snapshot by insta's filters, in this order:
/// ports, times, dates, lengths, random ids, temporary paths.
const FILTERS: &[(&str, &str)] = &[
    (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
    (r"127\.0\.0\.1%3A\d+", "127.0.0.1%3A[PORT]"),
    (
        r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT",
        "[HTTP-DATE]",
    ),
    (r"(?i)content-length: \d+", "content-length: [LEN]"),
    (r"\(\d+ bytes in all\)", "([LEN] bytes in all)"),
    (r#""(expires_on|not_before)":"\d+""#, "\"$1\":\"[UNIX]\""),
    (
        r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?Z?( UTC)?",
        "[DATE]",
    ),
    (r"\b\d+ ms\b", "[N] ms"),
    // Two clocks read a moment apart: a second can tick between them.
    (r"clock skew: [+-]\d+ s", "clock skew: [SKEW] s"),
    (r#""(duration_ms|elapsed_ms)": \d+"#, "\"$1\": [N]"),
    (r"\((now|in [^()]*|[^()]* ago)\)", "([RELATIVE])"),
    (r"expired [^;()]* ago", "expired [RELATIVE]"),
    (
        r#""(iat|nbf|exp|expires_at|started_at)": \d+"#,
        "\"$1\": [UNIX]",
    ),
    (r#""uti": "[^"]*""#, "\"uti\": \"[UTI]\""),
    (r"(?m)^(\s+uti\s+)[0-9a-f]{32}$", "${1}[UTI]"),
    // JUnit and HTML.
    (r#"time="[0-9.]+""#, "time=\"[T]\""),
    (r"step-summary\.md|/tmp/\S+", "[TMP]"),
];

const GUID: &str = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";

fn build_settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(root().join("tests/snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s.add_filter(&regex::escape(&root().display().to_string()), "[ROOT]");
    for (pattern, with) in FILTERS {
        s.add_filter(pattern, *with);
    }
    // Fixed ids are set aside, random GUIDs masked, then the fixed ids put back.
    for (i, id) in FIXED_IDS.iter().enumerate() {
        s.add_filter(&regex::escape(id), format!("[FIXED-ID-{i}]"));
    }
    s.add_filter(GUID, "[GUID]");
    for (i, id) in FIXED_IDS.iter().enumerate() {
        s.add_filter(&regex::escape(&format!("[FIXED-ID-{i}]")), *id);
    }
    s
}

thread_local! {
    /// The filters' regexes are compiled once per test thread, not per snapshot.
    static SETTINGS: insta::Settings = build_settings();
}

pub fn settings() -> insta::Settings {
    SETTINGS.with(insta::Settings::clone)
}

#[macro_export]
macro_rules! snap {
    ($name:expr, $value:expr) => {
        $crate::settings().bind(|| insta::assert_snapshot!($name, $value))
    };
}

/// A request as a test server saw it: the request line, the headers (names in lower case) and
/// the body.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    pub line: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Seen {
    /// A query parameter of the request line.
    pub fn query(&self, k: &str) -> String {
        let target = self.line.split_whitespace().nth(1).unwrap_or("/");
        let pairs: Vec<(String, String)> = target
            .split_once('?')
            .and_then(|(_, q)| serde_urlencoded::from_str(q).ok())
            .unwrap_or_default();
        pairs
            .into_iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v)
            .unwrap_or_default()
    }

    pub fn header(&self, k: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    }
}

/// What a test server does with each request: write its answer, all of it or bit by bit, on
/// the connection. The port is the server's own.
pub type Handler = dyn Fn(&Seen, u16, &mut std::net::TcpStream) + Send + Sync;

/// A loopback HTTP/1.1 server for tests, one thread per connection (keep-alive), recording
/// every request it reads.
pub struct TestServer {
    pub port: u16,
    seen: std::sync::Arc<std::sync::Mutex<Vec<Seen>>>,
}

impl TestServer {
    pub fn start(
        handler: impl Fn(&Seen, u16, &mut std::net::TcpStream) + Send + Sync + 'static,
    ) -> TestServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let handler: std::sync::Arc<Handler> = std::sync::Arc::new(handler);
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (log, handler) = (log.clone(), handler.clone());
                std::thread::spawn(move || serve(stream, port, &log, &*handler));
            }
        });
        TestServer { port, seen }
    }

    /// A server that answers each request with the bytes `answer` returns.
    pub fn answering(answer: impl Fn(&Seen, u16) -> Vec<u8> + Send + Sync + 'static) -> TestServer {
        Self::start(move |seen, port, out| {
            let _ = std::io::Write::write_all(out, &answer(seen, port));
        })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(
    stream: std::net::TcpStream,
    port: u16,
    log: &std::sync::Mutex<Vec<Seen>>,
    handler: &Handler,
) {
    use std::io::{BufRead, Read};
    let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    loop {
        let mut seen = Seen::default();
        if reader.read_line(&mut seen.line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                break;
            }
            if let Some((k, v)) = h.trim_end().split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
                seen.headers
                    .push((k.to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let mut body = vec![0; length];
        let _ = reader.read_exact(&mut body);
        seen.body = String::from_utf8_lossy(&body).into_owned();
        log.lock().unwrap().push(seen.clone());
        handler(&seen, port, &mut out);
    }
}

/// An HTTP/1.1 answer with a Content-Length.
pub fn http(status: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut s = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        s.push_str(&format!("{k}: {v}\r\n"));
    }
    s.push_str("\r\n");
    s.push_str(body);
    s.into_bytes()
}
