//! The command line, as clap sees it. Turned once into a [`crate::config`] value.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str = "Prove a service client can reach a FHIR server, and say why when it cannot.";

const LONG_ABOUT: &str =
    "Prove a service client can reach a FHIR server, and say why when it cannot.

fhircheck gets a token with the client's credentials (Microsoft Entra ID v1 or v2, or any OAuth2 \
client-credentials issuer), shows the claims the FHIR server will look at, runs the requests of \
a collection with their checks, and explains each failure with its cause and fix.

Try it with no Azure subscription:  fhircheck demo
Then against your FHIR service:     FHIR_URL=… AZURE_TENANT_ID=… AZURE_CLIENT_ID=… fhircheck run";

#[derive(Debug, Parser)]
#[command(name = "fhircheck", version, about = ABOUT, long_about = LONG_ABOUT, after_help = crate::exit::HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Also trust the certificate authorities in this PEM file (a private CA, a proxy that
    /// inspects TLS). Trusted already: the built-in web roots and the system's store, or
    /// SSL_CERT_FILE / SSL_CERT_DIR when set. Proxies: HTTPS_PROXY, HTTP_PROXY, NO_PROXY
    #[arg(long, global = true, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run collections against a FHIR server and check every answer
    #[command(after_help = RUN_HELP)]
    Run(Box<RunArgs>),
    /// Get a token with an auth profile and show its claims (never the token)
    #[command(after_help = TOKEN_HELP)]
    Token(TokenArgs),
    /// Check a service client's access step by step, and explain the first thing that is wrong
    #[command(after_help = doctor_help())]
    Doctor(DoctorArgs),
    /// Decode a JWT offline: header, claims and times (never the signature)
    #[command(after_help = DECODE_HELP)]
    Decode(DecodeArgs),
    /// Convert a Postman collection or a FHIR TestScript to fhircheck's format
    #[command(subcommand)]
    Import(ImportCommand),
    /// Print the JSON Schema of the collection or environment format
    Schema(SchemaArgs),
    /// Start the embedded sandbox: an Entra-ID-shaped token service and a FHIR service on 127.0.0.1
    #[command(after_help = sandbox_help())]
    Sandbox(SandboxArgs),
    /// Start a sandbox, run the Azure smoke collection against it, and stop
    #[command(after_help = sandbox_help())]
    Demo(DemoArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish)
    #[command(after_help = COMPLETIONS_HELP)]
    Completions(CompletionsArgs),
    /// Print the manual page (roff), for `man`
    #[command(
        after_help = "Install:  fhircheck man > ~/.local/share/man/man1/fhircheck.1  (then: man fhircheck)"
    )]
    Man,
}

const COMPLETIONS_HELP: &str = "Install, for example:
  bash  fhircheck completions bash > ~/.local/share/bash-completion/completions/fhircheck
  zsh   fhircheck completions zsh > ~/.zfunc/_fhircheck   (with fpath+=~/.zfunc before compinit)
  fish  fhircheck completions fish > ~/.config/fish/completions/fhircheck.fish
  pwsh  fhircheck completions powershell >> $PROFILE";

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

const RUN_HELP: &str = "Variables: `{{name}}` in urls, headers, query, bodies and auth fields. Precedence, highest first:
values captured by earlier requests, --var, the environment file (-e), the collection's `variables`.
Process environment variables are read only when named: `{{$env.AZURE_CLIENT_SECRET}}`.
Dynamic values: {{$guid}}, {{$timestamp}}, {{$isoTimestamp}}, and Postman's {{$random…}} names
({{$randomInt}}, {{$randomUUID}}, {{$randomEmail}}, {{$randomFirstName}}, {{$randomDatePast}}…).

With no COLLECTION, the built-in Azure smoke collection runs (the same as the shipped
collections/azure-fhir-smoke.json): set FHIR_URL and the AZURE_* variables, nothing else.
--var fhir_version=4.0 (4.3, 5.0) asks it for one FHIR version; another version is a warning.

A FHIR TestScript (\"resourceType\": \"TestScript\") runs on the smoke collection's profiles and
variables (-e, --var, --profile smart|oauth2): fixtures, variables, setup, tests, teardown;
asserts with FHIRPath expressions; warningOnly asserts are warnings. What it uses that fhircheck
can not run is named with line and column before anything is sent (exit 2).
`fhircheck import testscript` shows the collection it runs.

FHIRPath in fhircheck collections: \"expect\": {\"fhirpath\": [{\"expression\": \"entry.count()\",
\"greater_than\": 0}]}, captures {\"fhirpath\": \"entry.first().resource.id\"}, checked when the file
loads. \"warn\": {...} holds checks that only warn. follow_next: N reads a searchset's pages.

Entra profiles that leave out (or leave empty) tenant, client_id, client_secret or authority_host
take AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET and AZURE_AUTHORITY_HOST, as the Azure
SDKs do. The credential, first available wins: a client secret; a certificate
(AZURE_CLIENT_CERTIFICATE_PATH, PEM or PKCS#12, with AZURE_CLIENT_CERTIFICATE_PASSWORD); workload
identity with no secret at all (AZURE_FEDERATED_TOKEN_FILE on AKS, or a GitHub Actions job with
`permissions: id-token: write`); and, for the built-in collection (`default_azure_credential`),
managed identity, then the Azure CLI. The token line says which one was used.

Secrets (client secrets, tokens, variables marked secret or named like *secret*, *token*,
*password*) print as *** everywhere; so do private keys, certificate passwords and assertions.

Examples:
  fhircheck run collections/azure-fhir-smoke.json -e azure.env.json
  fhircheck run smoke.json --var fhir_url=https://ws-fhir.fhir.azurehealthcareapis.com --bail
  fhircheck run smoke.json -e prod.env.json --var write_enabled=false
  fhircheck run patient-crud.testscript.json -e azure.env.json -r junit
  fhircheck run collections/azure-fhir-smoke.json --profile smart \\
    --var fhir_url=https://fhir.example.org/r4 --var client_id=my-backend \\
    --var key_file=backend-es384.pem --var key_id=my-key-1

Reports: -r json,junit,html writes fhircheck-reports/fhircheck-report.json, fhircheck-junit.xml and
fhircheck-report.html (or --reporter-*-export PATH; `-` is standard output, and the terminal report
then goes to stderr); a path that cannot be written is an error before anything is sent. A
symbolic link, FIFO or device is written through; a regular file is replaced whole, never half
written. The run ends by listing the files it wrote. Under GitHub Actions (GITHUB_ACTIONS=true) failures are also annotated and
a summary is appended to $GITHUB_STEP_SUMMARY.

Exit codes: 0 passed, 1 an expectation failed or nothing was sent, 2 usage or collection error,
3 no token, 4 network error.";

const TOKEN_HELP: &str = "Without --collection, the auth profile of the built-in Azure smoke collection is used, which reads
the variables tenant_id, client_id, client_secret, resource (default: fhir_url), authority_host and
token_version (v1 or v2) from -e/--var, or AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET.

Examples:
  fhircheck token -e azure.env.json
  fhircheck token -e azure.env.json --json
  fhircheck token -c my-collection.json --profile backend

Exit codes: 0 a token was obtained, 2 usage error, 3 no token.";

fn doctor_help() -> String {
    let mut s =
        String::from("Checks, in order (a failure of metadata or token stops the later ones):\n");
    for (id, what) in crate::doctor::CHECKS {
        s.push_str(&format!("  {id:<20} {what}\n"));
    }
    s.push_str("\nThe FHIR URL and the auth profile come from the collection (default: the built-in Azure smoke
collection, which reads fhir_url, tenant_id, client_id, client_secret, resource, authority_host and
token_version from -e/--var or AZURE_* and FHIR_URL).

Examples:
  fhircheck doctor -e azure.env.json
  fhircheck doctor -e azure.env.json --write --json > doctor.json

Exit codes: 0 no check failed (warnings allowed), 1 a check failed, 2 usage error, 3 no token,
4 the FHIR service could not be reached.");
    s
}

const DECODE_HELP: &str = "Reads the token from standard input when none is given (or `-`), so it stays out of shell history:
  az account get-access-token --resource https://ws-fhir.fhir.azurehealthcareapis.com --query accessToken -o tsv | fhircheck decode
  pbpaste | fhircheck decode --fhir-url https://ws-fhir.fhir.azurehealthcareapis.com

With --fhir-url the claim checks of `doctor` are applied (audience, tenant with --tenant, times, roles).

Exit codes: 0 decoded (and every check passed), 1 a check failed, 2 not a JWT.";

fn sandbox_help() -> String {
    let mut s = String::from("Scenarios (each reproduces one registration mistake):\n");
    for (name, what) in crate::sandbox::registrations::SCENARIOS {
        s.push_str(&format!("  {name:<24} {what}\n"));
    }
    s.push_str("\nThe sandbox listens on 127.0.0.1 only. Its signing key and client secret are public test values.");
    s
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and NO_COLOR is not set
    Auto,
    /// Always colour (Newman's `on` too)
    #[value(alias = "on")]
    Always,
    /// Never colour (Newman's `off` too)
    #[value(alias = "off")]
    Never,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// When to use colour
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    /// Print only failures and the summary
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct VarArgs {
    /// Environment file with variable values (fhircheck or Postman environment format). `run`
    /// takes it repeated: one run of every collection per environment (dev, test, prod…)
    #[arg(short = 'e', long = "env", value_name = "ENV_FILE")]
    pub env: Vec<PathBuf>,
    /// Set a variable, overriding the environment file and the collection (repeatable)
    #[arg(long = "var", visible_alias = "env-var", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub vars: Vec<(String, String)>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Collection files to run, in order: fhircheck collections, Postman collections (their
    /// bearer, basic, apikey, digest, awsv4, oauth1, hawk, jwt and oauth2 auths; any other auth type stops
    /// the run with exit 2 before anything is sent), FHIR R4 TestScripts (on the built-in
    /// profiles). None: the built-in Azure smoke collection (the same as
    /// collections/azure-fhir-smoke.json)
    #[arg(value_name = "COLLECTION")]
    pub collections: Vec<PathBuf>,
    #[command(flatten)]
    pub vars: VarArgs,
    /// Auth profile for every request that does not name its own (overrides the collection's
    /// `default_auth`); e.g. `--profile smart` runs the shipped smoke test as a SMART backend client
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Stop at the first failure (requests marked `cleanup` still run). Newman's `--bail
    /// failure` and `--bail folder` mean the same here
    #[arg(long, value_name = "MODIFIER", num_args = 0..=1, default_missing_value = "failure", value_parser = ["failure", "folder"])]
    pub bail: Option<String>,
    /// Retry a request answered 429 (throttled) or 503 up to N times, after its Retry-After
    /// (1 to 30 s); for fhircheck and Postman collections alike
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=10))]
    pub retry: u32,
    /// Per-request timeout in seconds; 0 for none
    #[arg(long, default_value_t = 30, value_name = "SECS", value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub timeout: u64,
    /// The largest answer to read, e.g. 64MiB, 500MB, 2GiB; a larger one is an error, read no
    /// further than the limit
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = parse_size)]
    pub max_body: u64,
    /// Follow a redirect to another origin too (without the Authorization header); by default
    /// only redirects within the request's own scheme, host and port are followed
    #[arg(long)]
    pub follow_cross_origin: bool,
    /// Right after a role assignment: while the first request with a token answers 403, retry
    /// it (1 s, 2 s, 4 s… apart, at most 15 s) for up to DURATION, e.g. 5m, 90s. The run then
    /// says how long access took to appear. Assignments take up to about 5 minutes to apply
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub wait_for_access: Option<std::time::Duration>,
    /// Send credentials over plain http:// to hosts other than this machine (refused by default)
    #[arg(long)]
    pub allow_http: bool,
    /// Do not check TLS certificates (Newman's -k). Anyone between you and the server can then
    /// read the credentials: for a test server with a self-signed certificate only; --cacert
    /// trusts one CA instead
    #[arg(short = 'k', long)]
    pub insecure: bool,
    /// Follow no redirect at all: the 3xx answer is the answer (Newman's flag)
    #[arg(long)]
    pub ignore_redirects: bool,
    /// Exit 0 whatever happened, once the collection loaded (Newman's -x): for a run that only
    /// reports
    #[arg(short = 'x', long)]
    pub suppress_exit_code: bool,
    /// Runs at the same time: every collection, times every environment (-e repeated), is one
    /// run with its own variables, tokens and cleanup. Their output is shown whole and in order.
    /// Default: the number of CPUs
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: Option<u16>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub reports: ReportArgs,
    #[command(flatten)]
    pub postman: PostmanArgs,
}

/// Newman-compatible options for Postman collections.
#[derive(Debug, Args)]
#[command(next_help_heading = "Postman collections (Newman-compatible)")]
pub struct PostmanArgs {
    /// Postman globals file
    #[arg(short = 'g', long = "globals", value_name = "FILE")]
    pub globals: Option<PathBuf>,
    /// Run only this folder (or request) by name (repeatable)
    #[arg(long = "folder", value_name = "NAME")]
    pub folders: Vec<String>,
    /// Number of iterations (default: the rows of --iteration-data, or 1)
    #[arg(short = 'n', long = "iteration-count", value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100000))]
    pub iterations: Option<u64>,
    /// Iteration data: a CSV file with a header row, or a JSON array of objects
    #[arg(short = 'd', long = "iteration-data", value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// Wait this many milliseconds between requests
    #[arg(long = "delay-request", value_name = "MS", default_value_t = 0)]
    pub delay: u64,
    /// Per-request timeout in milliseconds, 0 for none (overrides --timeout)
    #[arg(long = "timeout-request", value_name = "MS")]
    pub timeout_request: Option<u64>,
    /// Set a global variable (repeatable), over the globals file
    #[arg(long = "global-var", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub global_vars: Vec<(String, String)>,
    /// Write the globals as the run left them to this file, or `-` (secret values as ***)
    #[arg(long = "export-globals", value_name = "FILE")]
    pub export_globals: Option<PathBuf>,
    /// Also trust the CAs in this PEM file (Newman's name for --cacert)
    #[arg(long = "ssl-extra-ca-certs", value_name = "FILE")]
    pub ssl_extra_ca_certs: Option<PathBuf>,
    /// A client certificate (PEM) for servers that ask for one (mutual TLS)
    #[arg(
        long = "ssl-client-cert",
        value_name = "FILE",
        requires = "ssl_client_key"
    )]
    pub ssl_client_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM; if encrypted, give --ssl-client-passphrase)
    #[arg(
        long = "ssl-client-key",
        value_name = "FILE",
        requires = "ssl_client_cert"
    )]
    pub ssl_client_key: Option<PathBuf>,
    /// The passphrase of an encrypted --ssl-client-key (PKCS#8 `ENCRYPTED PRIVATE KEY` with
    /// AES, or OpenSSL's traditional AES `Proc-Type: 4,ENCRYPTED`); masked in every output
    #[arg(
        long = "ssl-client-passphrase",
        value_name = "PASSPHRASE",
        requires = "ssl_client_key"
    )]
    pub ssl_client_passphrase: Option<String>,
    /// Where form-data files are read from (default: the current directory)
    #[arg(long = "working-dir", value_name = "DIR")]
    pub working_dir: Option<PathBuf>,
    /// Time limit for one script in milliseconds; a longer one is stopped (endless loops)
    #[arg(long = "timeout-script", value_name = "MS", default_value_t = 5000)]
    pub timeout_script: u64,
    /// Write the environment as the run left it to this file, or `-` for stdout (secret values
    /// as ***)
    #[arg(long = "export-environment", value_name = "FILE")]
    pub export_environment: Option<PathBuf>,
    /// Write the collection as it was read to this file, or `-` (secret values as ***). As in
    /// Newman 6, what scripts set with pm.collectionVariables is not written back
    #[arg(long = "export-collection", value_name = "FILE")]
    pub export_collection: Option<PathBuf>,
    /// Write secret values in clear in the --export-environment, --export-globals and
    /// --export-collection files. Newman does; fhircheck writes *** unless asked, since exported
    /// files become CI artifacts and artifacts are where secrets leak
    #[arg(long = "export-secrets")]
    pub export_secrets: bool,
    /// Send requests for login.microsoftonline.com (and the other Entra hosts) to this base URL,
    /// e.g. the sandbox's, or a sovereign cloud's
    #[arg(long = "authority-host", value_name = "URL")]
    pub authority_host: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Reporters: cli, json, junit, html, github (comma list or repeated). Default: cli;
    /// github is added when GITHUB_ACTIONS=true
    #[arg(
        short,
        long = "reporter",
        value_name = "NAMES",
        value_enum,
        value_delimiter = ','
    )]
    pub reporters: Vec<crate::reporters::Kind>,
    /// Directory for report files that have no path of their own
    #[arg(long, value_name = "DIR", default_value = "fhircheck-reports")]
    pub report_dir: PathBuf,
    /// Where to write the JSON report, `-` for stdout (implies the json reporter)
    #[arg(long, value_name = "PATH")]
    pub reporter_json_export: Option<PathBuf>,
    /// Where to write the JUnit XML report, `-` for stdout (implies the junit reporter)
    #[arg(long, value_name = "PATH")]
    pub reporter_junit_export: Option<PathBuf>,
    /// Where to write the HTML report, `-` for stdout (implies the html reporter)
    #[arg(long, value_name = "PATH")]
    pub reporter_html_export: Option<PathBuf>,
    /// Trace every HTTP exchange on stderr (credentials and secrets masked)
    #[arg(short, long)]
    pub verbose: bool,
    /// Keep tokens between runs in the user's cache directory (file mode 0600), and reuse one
    /// while it has more than 2 minutes left (auth profiles, and a Postman collection's oauth2
    /// client credentials)
    #[arg(long)]
    pub token_cache: bool,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// Collection whose auth profiles to use (default: the built-in Azure smoke collection)
    #[arg(short, long, value_name = "COLLECTION")]
    pub collection: Option<PathBuf>,
    #[command(flatten)]
    pub vars: VarArgs,
    /// Auth profile name (default: the collection's default profile)
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
    /// Use and fill the token cache (see `run --token-cache`)
    #[arg(long)]
    pub token_cache: bool,
    /// Delete the token cache and exit
    #[arg(long, exclusive = true)]
    pub clear_cache: bool,
    /// Send credentials over plain http:// to hosts other than this machine (refused by default)
    #[arg(long)]
    pub allow_http: bool,
    /// Timeout in seconds
    #[arg(long, default_value_t = 30, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Collection whose base_url and auth profile to check (default: the built-in Azure smoke collection)
    #[arg(short, long, value_name = "COLLECTION")]
    pub collection: Option<PathBuf>,
    #[command(flatten)]
    pub vars: VarArgs,
    /// Auth profile name (default: the collection's default profile)
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Also create and delete a tagged test Patient
    #[arg(long)]
    pub write: bool,
    /// While the read probe answers 403, retry it for up to DURATION (e.g. 5m): a new role
    /// assignment takes minutes to apply. Says how long access took to appear
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub wait: Option<std::time::Duration>,
    /// Print only what failed or warned, and the summary
    #[arg(short, long)]
    pub quiet: bool,
    /// Print the findings as JSON
    #[arg(long)]
    pub json: bool,
    /// Trace every HTTP exchange to stderr (credentials masked), as `run -v` does
    #[arg(short, long)]
    pub verbose: bool,
    /// Send credentials over plain http:// to hosts other than this machine (refused by default)
    #[arg(long)]
    pub allow_http: bool,
    /// Per-request timeout in seconds
    #[arg(long, default_value_t = 30, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The token; omit it (or give -) to read standard input
    #[arg(value_name = "TOKEN")]
    pub token: Option<String>,
    /// Check the claims against this FHIR service URL (the expected audience)
    #[arg(long, value_name = "URL")]
    pub fhir_url: Option<String>,
    /// The tenant id the FHIR service belongs to, to check tid against
    #[arg(long, value_name = "TENANT_ID")]
    pub tenant: Option<String>,
    /// Print as JSON
    #[arg(long)]
    pub json: bool,
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// A Postman v2.0/v2.1 collection: the token request becomes an auth profile, script checks
    /// it can translate become expectations and captures, the rest is listed
    Postman(ImportPostmanArgs),
    /// A FHIR R4 TestScript: fixtures, variables, operations and asserts become requests,
    /// captures and expectations on the built-in profiles (what `fhircheck run script.json`
    /// runs); what can not be converted is named with its line and column
    Testscript(ImportTestscriptArgs),
}

#[derive(Debug, Args)]
pub struct ImportTestscriptArgs {
    /// The TestScript (JSON); fixture files it names are read next to it
    #[arg(value_name = "TESTSCRIPT")]
    pub testscript: PathBuf,
    /// Where to write the fhircheck collection (default: standard output)
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ImportPostmanArgs {
    /// The Postman collection
    #[arg(value_name = "COLLECTION")]
    pub collection: PathBuf,
    /// A Postman environment: its variable names (and non-secret values) are carried over
    #[arg(short = 'e', long = "env", value_name = "ENV_FILE")]
    pub env: Option<PathBuf>,
    /// Where to write the fhircheck collection (default: standard output)
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    Collection,
    Environment,
    /// The JSON report (`--reporter json`)
    Report,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which format
    #[arg(value_enum, default_value_t = SchemaKind::Collection)]
    pub kind: SchemaKind,
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Port on 127.0.0.1 (0 picks a free one)
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Which registration to reproduce
    #[arg(long, default_value = "healthy", value_parser = clap::builder::PossibleValuesParser::new(crate::sandbox::registrations::scenario_names()), hide_possible_values = true)]
    pub scenario: String,
    /// Registrations as JSON instead of a scenario (see --print-registrations)
    #[arg(long, value_name = "FILE", conflicts_with = "scenario")]
    pub registrations: Option<PathBuf>,
    /// Print the scenario's registrations as JSON (a starting point for --registrations) and exit
    #[arg(long)]
    pub print_registrations: bool,
    /// Write the values to use against the sandbox as a fhircheck environment file
    #[arg(long, value_name = "FILE")]
    pub write_env: Option<PathBuf>,
    /// Forward authorized FHIR requests to this FHIR server instead of the in-memory store
    #[arg(long, value_name = "URL")]
    pub upstream: Option<String>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Which registration to reproduce
    #[arg(long, default_value = "healthy", value_parser = clap::builder::PossibleValuesParser::new(crate::sandbox::registrations::scenario_names()), hide_possible_values = true)]
    pub scenario: String,
    /// Also run the v2 token endpoint instead of v1
    #[arg(long, value_name = "VERSION", default_value = "v1", value_parser = ["v1", "v2"])]
    pub token_version: String,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `64MiB`, `500MB`, `2GiB`, `1048576`: a size in bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(digits);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("`{s}` is not a size: write it like 64MiB, 500MB or 2GiB"))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        _ => {
            return Err(format!(
                "`{s}`: the unit must be B, KB, KiB, MB, MiB, GB or GiB"
            ))
        }
    };
    n.checked_mul(factor)
        .filter(|b| *b > 0)
        .ok_or_else(|| format!("`{s}` is not a size fhircheck can use"))
}

/// `5m`, `90s`, `1m30s`, `300` (seconds), `1h`: a duration of at least 1 s and at most 1 h.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let bad = || format!("`{s}` is not a duration: write it like 5m, 90s or 1m30s");
    let t = s.trim().to_ascii_lowercase();
    let mut total = 0u64;
    let mut number = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: u64 = number.parse().map_err(|_| bad())?;
        number.clear();
        total += n * match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return Err(bad()),
        };
    }
    if !number.is_empty() {
        total += number.parse::<u64>().map_err(|_| bad())?;
    }
    if t.is_empty() || !(1..=3600).contains(&total) {
        return Err(format!("`{s}`: give a duration from 1s to 1h"));
    }
    Ok(std::time::Duration::from_secs(total))
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not KEY=VALUE")),
    }
}
