import type { KubernetesObject } from '@kubernetes/client-node';

/** A place in the repository: a file (relative to the repository root when it lies inside it) and a 1-based line. */
export interface SourceLocation {
  file: string;
  line?: number;
}

/** A path to a field inside an object: keys for maps, indexes for lists (`['spec', 'template', 'spec', 'containers', 0]`). */
export type FieldPath = readonly (string | number)[];

/** One Kubernetes object read from a manifest or rendered from a chart, with where it came from. */
export interface RenderedObject {
  object: KubernetesObject;
  /** The file the object comes from (the chart template for Helm output) and the line where the object starts. */
  source: SourceLocation;
  /**
   * Where a field of the object is written: the line of the deepest part of `path` that can be found in the
   * source file, else the object's own line. Never throws.
   */
  locate(path: FieldPath): SourceLocation;
  /**
   * For rendered charts: the values file line that sets what the template writes at `path` (the template line
   * reads `.Values.x.y`, and a values file defines `x.y`); the highest-precedence file wins, as in Helm.
   * Undefined when the value comes from `--set`, a default in the template, or nothing can be told.
   */
  valueSource?(path: FieldPath): SourceLocation | undefined;
}
