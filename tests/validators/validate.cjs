// Validates Kubernetes objects against the schemas shipped in kubernetes-models (built-in kinds),
// @kubernetes-models/cert-manager (Certificate, Issuer, ClusterIssuer, ...) and
// @kubernetes-models/prometheus-operator (PodMonitor, ...).
// Usage: node validate.cjs FILE.yaml...  Prints one JSON line per object; exit 1 if any is invalid.
"use strict";
const fs = require("fs");
const yaml = require("js-yaml");

const PACKAGES = ["kubernetes-models", "@kubernetes-models/cert-manager", "@kubernetes-models/prometheus-operator"];

function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const path = group ? `${group}/${version}` : version;
  for (const pkg of PACKAGES) {
    let mod;
    try {
      mod = require(`${pkg}/${path}`);
    } catch (err) {
      continue;
    }
    if (mod[kind]) return mod[kind];
  }
  return null;
}

let invalid = 0;
for (const file of process.argv.slice(2)) {
  for (const doc of yaml.loadAll(fs.readFileSync(file, "utf8"))) {
    if (!doc) continue;
    const id = `${doc.kind}/${doc.metadata && doc.metadata.name}`;
    const Model = modelFor(doc.apiVersion || "", doc.kind || "");
    if (!Model) {
      console.log(JSON.stringify({ file, id, result: "no-schema" }));
      continue;
    }
    try {
      new Model(doc).validate();
      console.log(JSON.stringify({ file, id, result: "valid" }));
    } catch (err) {
      invalid += 1;
      console.log(JSON.stringify({ file, id, result: "invalid", error: err.message }));
    }
  }
}
process.exit(invalid ? 1 : 0);
