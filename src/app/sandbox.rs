//! `fhircheck sandbox`: the embedded Entra-shaped token service and FHIR service, on loopback,
//! until Ctrl-C.

use std::io::Write;

use super::{out, CliError, Config, Outcome, SMOKE_SOURCE};
use crate::cli::SandboxArgs;
use crate::exit::ExitCode;
use crate::sandbox::{self, Endpoints};

/// What the sandbox prints when it is up. Its secret is a published test value: shown, so
/// people can use it.
fn banner(ep: &Endpoints, a: &SandboxArgs) -> String {
    let mut s = format!(
        "fhircheck sandbox listening on {} (scenario: {})\n",
        ep.base, ep.scenario
    );
    if let Some(d) = &ep.description {
        s.push_str(&format!("  {d}\n"));
    }
    s.push_str(&format!(
        "\n  fhir_url        {}\n  authority_host  {}\n  tenant_id       {}\n  client_id       {}\n  client_secret   {}\n  resource        {}\n  token endpoint  {}/{}/oauth2/token (v1), {}/{}/oauth2/v2.0/token (v2)\n",
        ep.fhir_url, ep.authority_host, ep.client.tenant_id, ep.client.client_id, ep.client.client_secret,
        ep.client.resource, ep.base, ep.client.tenant_id, ep.base, ep.client.tenant_id
    ));
    s.push_str(&format!(
        "\n  Workload identity (no secret): federated credentials for the issuers {base}/github and {base}/aks
    GitHub Actions  ACTIONS_ID_TOKEN_REQUEST_URL={base}/github/token  ACTIONS_ID_TOKEN_REQUEST_TOKEN={}
    token file      curl -s {base}/aks/token > token.jwt; AZURE_FEDERATED_TOKEN_FILE=token.jwt
    (either endpoint takes ?subject=, ?audience=, ?issuer= or ?lifetime=-60 to reproduce a mismatch)
  Managed identity: AZURE_POD_IDENTITY_AUTHORITY_HOST={base}\n",
        sandbox::registrations::GITHUB_REQUEST_TOKEN,
        base = ep.base
    ));
    if let Some(p) = &a.write_env {
        s.push_str(&format!(
            "\n  environment written to {}\n  try: fhircheck run {SMOKE_SOURCE} -e {}\n",
            p.display(),
            p.display()
        ));
    }
    s.push_str("\nPress Ctrl-C to stop.\n");
    s
}

pub(super) fn sandbox(a: SandboxArgs, cfg: &Config) -> Outcome {
    if a.print_registrations {
        let regs = sandbox::registrations::scenario(&a.scenario, "{{sandbox_url}}");
        out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&regs).unwrap_or_default()
        ));
        return Ok(ExitCode::Success);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::Runtime(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(async {
        let opts = sandbox::Options {
            port: a.port,
            scenario: a.scenario.clone(),
            registrations: a.registrations.clone(),
            upstream: a.upstream.clone(),
            clock: cfg.clock,
        };
        let running = sandbox::start(opts)
            .await
            .map_err(|e| CliError::Usage(e.to_string()))?;
        let ep = running.endpoints.clone();
        if let Some(path) = &a.write_env {
            let text = serde_json::to_string_pretty(&ep.environment()).unwrap_or_default() + "\n";
            if let Err(e) = crate::reporters::write_atomic(path, &text) {
                running.stop().await;
                return Err(CliError::Usage(format!(
                    "cannot write {}: {e}",
                    path.display()
                )));
            }
        }
        // Printed raw on purpose (see `banner`); everything else goes through the redactor.
        print!("{}", banner(&ep, &a));
        let _ = std::io::stdout().flush();
        let _ = tokio::signal::ctrl_c().await;
        running.stop().await;
        eprintln!("sandbox stopped");
        Ok(ExitCode::Success)
    })
}
