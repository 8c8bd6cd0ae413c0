export { startLab, type Lab, type LabActivation, type LabDns, type LabOptions, type LabScavenged } from './start-lab.js';
export type { LabHost, LabHostOptions } from './lab-host.js';
export { LabTime } from './lab-time.js';
export { jestGlobalSetup, jestGlobalTeardown, labEnvironment, vitestGlobalSetup } from './global-setup.js';
