import { clientIdentityVariants } from './variants/client-identity.ts';
import { contractVariants } from './variants/contract.ts';
import { credentialVariants } from './variants/credentials.ts';
import { gapVariants } from './variants/gaps.ts';
import { gapVariants2, gapVariants3, gapVariants4 } from './variants/gaps2.ts';
import { sessionVariants } from './variants/sessions.ts';

// Every deliberately broken deployment the self-test proves the suite catches.

export type { BrokenVariant, VariantEnv } from './variants/helpers.ts';
export const variants = [...contractVariants, ...sessionVariants, ...credentialVariants, ...gapVariants, ...gapVariants2, ...gapVariants3, ...gapVariants4, ...clientIdentityVariants];
