// `node --import atlas-engine/register`: lets Node run TypeScript (Atlas's SDK and a plugin's
// own sources) through tsx, Atlas's own loader. A connector package's tests start with it.
import { register } from 'tsx/esm/api';

register();
