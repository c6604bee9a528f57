import { validate } from 'dockerfile-utils';

/** A problem in a Dockerfile, with its 1-based line (0 = the whole file). */
export interface LintFinding {
  readonly line: number;
  readonly rule: string;
  readonly message: string;
}

interface Instruction {
  readonly line: number;
  readonly keyword: string;
  readonly args: string;
}

/** Instructions with continuations joined and comments dropped (heredocs are not used here). */
export function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!;
    if (/^\s*(#|$)/.test(line)) continue;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      i++;
      const next = lines[i]!;
      line = `${line.replace(/\s*\\\s*$/, ' ')}${/^\s*#/.test(next) ? '' : next.trim()}`;
    }
    const match = /^\s*(\w+)\s*(.*)$/.exec(line);
    if (match) out.push({ line: start + 1, keyword: match[1]!.toUpperCase(), args: match[2]!.trim() });
  }
  return out;
}

const SECRET_NAME = /(PASSWORD|SECRET|TOKEN|PRIVATE_KEY|API_KEY)/i;

/**
 * Lints a Dockerfile: the syntax and semantics checks of dockerfile-utils (the engine of the
 * VS Code Docker extension), then our rules: multi-stage, base images pinned by digest, never
 * `latest`, `npm ci` rather than `npm install`, lean apt installs, no remote ADD or piped
 * installers, no secrets baked into ENV/ARG, and a final stage with a non-root USER, a
 * HEALTHCHECK and an exec-form CMD/ENTRYPOINT.
 */
export function lintDockerfile(text: string): LintFinding[] {
  const findings: LintFinding[] = validate(text).map((d) => ({
    line: d.range.start.line + 1,
    rule: `dockerfile-utils:${String(d.code ?? 'error')}`,
    message: typeof d.message === 'string' ? d.message : d.message.value,
  }));
  const fail = (line: number, rule: string, message: string) => findings.push({ line, rule, message });
  const all = instructions(text);

  const args = new Map<string, string>();
  for (const i of all) {
    if (i.keyword === 'FROM') break;
    if (i.keyword === 'ARG') {
      const [name, value] = i.args.split('=', 2);
      if (name && value !== undefined) args.set(name.trim(), value.trim());
    }
  }
  const expand = (s: string) =>
    s.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, a: string | undefined, b: string | undefined) => {
      const name = a ?? b ?? '';
      return args.get(name) ?? whole;
    });

  const froms = all.filter((i) => i.keyword === 'FROM');
  if (froms.length < 2) fail(0, 'multi-stage', 'use a build stage and a runtime stage');
  const stages = new Set<string>();
  for (const from of froms) {
    const [imageRaw = '', as, stage] = from.args.split(/\s+/).filter((p) => !p.startsWith('--'));
    const image = expand(imageRaw);
    if (as?.toUpperCase() === 'AS' && stage) stages.add(stage);
    if (stages.has(image)) continue;
    if (!/@sha256:[0-9a-f]{64}$/.test(image))
      fail(from.line, 'pinned-base', `base image "${image}" is not pinned by digest`);
    if (/:latest(@|$)/.test(image) || !/:[\w.-]+@/.test(image)) {
      fail(from.line, 'explicit-tag', `base image "${image}" needs an explicit version tag`);
    }
  }

  for (const i of all) {
    if (i.keyword === 'RUN') {
      // Packages come from `npm ci`; only npm itself may be installed, at a pinned version.
      const installs = i.args.match(/\bnpm\s+(?:install|i)\b[^&|;]*/g) ?? [];
      const pinnedNpm = /^npm\s+(?:install|i)\s+-g\s+npm@\d+\.\d+\.\d+(\s+--[\w-]+)*$/;
      if (installs.some((command) => !pinnedNpm.test(command.trim()))) {
        fail(i.line, 'npm-ci', 'install with `npm ci` (exactly the lock file)');
      }
      if (/\bapt-get\s+install\b/.test(i.args)) {
        if (!/--no-install-recommends/.test(i.args))
          fail(i.line, 'apt-lean', 'apt-get install --no-install-recommends');
        if (!/\s-y\b|--yes\b/.test(i.args)) fail(i.line, 'apt-lean', 'apt-get install -y');
        if (!/rm -rf \/var\/lib\/apt\/lists/.test(i.args))
          fail(i.line, 'apt-lean', 'remove /var/lib/apt/lists in the same RUN');
        if (!/apt-get update/.test(i.args))
          fail(i.line, 'apt-lean', 'apt-get update in the same RUN as install');
      }
      if (/\b(curl|wget)\b[^|]*\|\s*(ba)?sh\b/.test(i.args))
        fail(i.line, 'no-pipe-install', 'no piped remote installer');
      if (/\bsudo\b/.test(i.args)) fail(i.line, 'no-sudo', 'no sudo in images');
    }
    if (i.keyword === 'ADD' && /https?:\/\//.test(i.args))
      fail(i.line, 'no-remote-add', 'ADD of a URL; COPY checked files');
    if ((i.keyword === 'ENV' || i.keyword === 'ARG') && SECRET_NAME.test(i.args.split(/[=\s]/)[0] ?? '')) {
      fail(
        i.line,
        'no-secrets',
        `${i.keyword} ${i.args.split(/[=\s]/)[0]} looks like a secret baked into the image`,
      );
    }
  }

  const lastFrom = all.lastIndexOf(froms[froms.length - 1]!);
  const final = all.slice(lastFrom + 1);
  const users = final.filter((i) => i.keyword === 'USER');
  const user = users[users.length - 1];
  if (!user) fail(0, 'non-root', 'the final stage sets no USER (it would run as root)');
  else if (/^(root|0)(:|$)/.test(user.args)) fail(user.line, 'non-root', 'the final stage runs as root');
  const health = final.find((i) => i.keyword === 'HEALTHCHECK');
  if (!health || /^NONE\b/i.test(health.args)) fail(0, 'healthcheck', 'the final stage has no HEALTHCHECK');
  const start = final.filter((i) => i.keyword === 'CMD' || i.keyword === 'ENTRYPOINT');
  if (start.length === 0) fail(0, 'exec-form', 'the final stage has no CMD or ENTRYPOINT');
  for (const i of start) {
    if (!i.args.startsWith('['))
      fail(i.line, 'exec-form', `${i.keyword} in exec form (JSON) so signals reach the process`);
  }
  if (health && !/CMD\s+\[/.test(health.args)) fail(health.line, 'exec-form', 'HEALTHCHECK CMD in exec form');
  return findings;
}
