// Renders a kustomization (an overlay) to YAML on stdout, validated: `npm run deploy:render -- deploy/k8s/overlays/fr`.
import { checkPolicies } from '../src/k8s-policy.ts';
import { checkUnknownFields, validateSchemas } from '../src/k8s-validate.ts';
import { render, renderYaml } from '../src/kustomize.ts';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: render.ts <kustomization folder>\n');
  process.exit(2);
}
const objects = render(dir);
const findings = [
  ...(await validateSchemas(objects)),
  ...checkUnknownFields(objects),
  ...checkPolicies(objects),
];
for (const f of findings) process.stderr.write(`${f.object}: ${f.message}\n`);
if (findings.length > 0) process.exit(1);
process.stdout.write(renderYaml(dir));
