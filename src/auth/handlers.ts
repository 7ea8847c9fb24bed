import type { AppDeps, OperationHandlers } from '../deps.ts';
import { createChangePasswordHandler } from './change-password.ts';
import { createLoginHandler } from './login.ts';
import { createLogoutHandler } from './logout.ts';
import { createRegisterHandler } from './register.ts';

export function createAuthHandlers(deps: AppDeps): OperationHandlers {
  return {
    register: createRegisterHandler(deps),
    login: createLoginHandler(deps),
    logout: createLogoutHandler(deps),
    changePassword: createChangePasswordHandler(deps),
  };
}
