// The repository root, whether running from sources (ts-jest) or from the build in dist/.
import path from 'node:path';

const here = __dirname;
export const REPO_ROOT = path.resolve(here, '..', '..', ...(here.includes(`${path.sep}dist${path.sep}`) ? ['..'] : []));
