// Builds the committed front-end assets into ../static:
//   static/css/app.css        our hand-written CSS (src/css), bundled and minified by lightningcss
//   static/vendor/*.min.js    the minified browser builds of the npm packages we use
//   static/fonts/*.woff2      Inter (variable, Latin subset)
//   static/vendor/LICENSES.txt the licences of everything copied
// Run with `npm run build` (or `make assets` from the repository root).
import { bundle } from "lightningcss";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, "node_modules");
const out = join(here, "..", "static");

// Browsers of the last ~3 years (lightningcss lowers nesting, adds prefixes where needed).
const v = (major, minor = 0) => (major << 16) | (minor << 8);
const targets = { chrome: v(109), edge: v(109), firefox: v(115), safari: v(15, 4), ios_saf: v(15, 4) };

const vendor = [
  // [package, file inside it, name in static/vendor, licence file]
  ["htmx.org", "dist/htmx.min.js", "htmx.min.js", "LICENSE"],
  ["@alpinejs/csp", "dist/cdn.min.js", "alpine-csp.min.js", null],
  ["echarts", "dist/echarts.min.js", "echarts.min.js", "LICENSE"],
  ["sortablejs", "Sortable.min.js", "sortable.min.js", "LICENSE"],
];
const fonts = [["@fontsource-variable/inter", "files/inter-latin-wght-normal.woff2", "inter-latin-wght-normal.woff2", "LICENSE"]];

function version(pkg) {
  return JSON.parse(readFileSync(join(modules, pkg, "package.json"), "utf8")).version;
}

function buildCss() {
  const { code, warnings } = bundle({
    filename: join(here, "src", "css", "app.css"),
    minify: true,
    sourceMap: false,
    targets,
  });
  for (const w of warnings) console.warn(`css warning: ${w.message} (${w.loc?.filename}:${w.loc?.line})`);
  mkdirSync(join(out, "css"), { recursive: true });
  writeFileSync(join(out, "css", "app.css"), code);
  console.log(`static/css/app.css  ${(code.length / 1024).toFixed(1)} kB`);
}

function copy(list, folder) {
  const notices = [];
  rmSync(join(out, folder), { recursive: true, force: true });
  mkdirSync(join(out, folder), { recursive: true });
  for (const [pkg, file, name, licence] of list) {
    copyFileSync(join(modules, pkg, file), join(out, folder, name));
    console.log(`static/${folder}/${name}  (${pkg} ${version(pkg)})`);
    let text = "MIT (see the package on npm)";
    if (licence) text = readFileSync(join(modules, pkg, licence), "utf8").trim();
    else if (pkg === "@alpinejs/csp") text = "MIT License, Copyright (c) Caleb Porzio and contributors";
    notices.push(`${name}: ${pkg} ${version(pkg)}\n\n${text}`);
  }
  return notices;
}

buildCss();
const notices = [...copy(vendor, "vendor"), ...copy(fonts, "fonts")];
writeFileSync(join(out, "vendor", "LICENSES.txt"), notices.join(`\n\n${"-".repeat(78)}\n\n`) + "\n");
