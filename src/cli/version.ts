// The CLI and the bundled server (which stamps its snapshot archives) share one version lookup.
export { toolVersion } from '../util/package-version.js';
