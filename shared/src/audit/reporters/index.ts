export * from './annotations.ts';
export * from './counts.ts';
export * from './json.ts';
export * from './links.ts';
export * from './sarif.ts';
export * from './summary.ts';
