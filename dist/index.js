import { createRequire as __glCreateRequire } from 'node:module';
const require = __glCreateRequire(import.meta.url);
var e=["build-image","deploy-bluegreen","promote","audit"];async function n(t=process.env){let o=(t.INPUT_COMMAND??"").trim();if(!e.includes(o)){let i=o?`input \`command\` must be one of ${e.join("|")}, got "${o}"`:`input \`command\` is required and was not given (one of ${e.join("|")})`;process.stdout.write(`::error title=greenlight::${i.replace(/%/g,"%25").replace(/\r?\n/g,"%0A")}
`),process.exitCode=1;return}await import(new URL(`../actions/${o}/dist/index.js`,import.meta.url).href)}await n();
