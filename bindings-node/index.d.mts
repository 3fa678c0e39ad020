// ESM declarations (`import … from 'grantline'`): index.mjs re-exports index.js, so its types are
// index.d.ts's, plus the default export (the whole module).
import * as grantline from './index.js'

export * from './index.js'
export default grantline
