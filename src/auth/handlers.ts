import type { AppDeps, OperationHandlers } from '../deps.ts';
import { configureHashing } from '../hashing/index.ts';
import { createChangePasswordHandler } from './change-password.ts';
import { createLoginHandler } from './login.ts';
import { createLogoutHandler } from './logout.ts';
import { createRegisterHandler } from './register.ts';

export function createAuthHandlers(deps: AppDeps): OperationHandlers {
  // The hashing cap is per process (it guards libuv's thread pool): every caller of
  // hashPassword / verifyPassword (register, login, password change, reset confirm) shares it.
  configureHashing(deps.config);
  return {
    register: createRegisterHandler(deps),
    login: createLoginHandler(deps),
    logout: createLogoutHandler(deps),
    changePassword: createChangePasswordHandler(deps),
  };
}
