/**
 * What a scenario asserts, below everything that runs or reports one (the
 * simulation makes the acknowledged-count check, reports list them).
 */

/** One check of a scenario, passed or not, with what was seen. */
export interface Check {
  name: string;
  passed: boolean;
  detail: string;
}

/** A check run against a finished simulation. */
export type CheckFn = (name: string, passed: boolean, detail: string) => void;
