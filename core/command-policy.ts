// The command policy lives in core/command-policy/; this entry keeps its import path stable.
export * from './command-policy/index.js';
