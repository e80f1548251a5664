/** The deployments part of the core, as other parts use it (docs/deployments.md; CONTRACT-deployments.md). */
export type { DeploymentService } from './deployment-service.js';
export type {
  Counts,
  Deployment,
  DeploymentEvent,
  DeploymentSpec,
  DeploymentState,
  DeviceInDeployment,
  DeviceState,
  DryRun,
  Target,
  Window,
} from './types.js';
export { ACTIVE_STATES, DEPLOYMENT_STATES, DEVICE_STATES, FINAL_DEVICE_STATES } from './types.js';
export { inWindow, secondsUntilWindow } from './window.js';
export { positionOf } from './waves.js';
