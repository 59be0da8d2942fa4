import type { MiddlewareHandler } from 'hono';
import { checkBearerShape, hasValidKey, safeEqual } from '../auth.ts';
import type { AppEnv } from '../context.ts';
import { errorBody } from '../errors.ts';

const REALM = 'Basic realm="PIE Lens ML backend", charset="UTF-8"';

function basicCredentials(header: string | undefined): { username: string; password: string } | null {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return null;
  let decoded: string;
  try {
    decoded = new TextDecoder().decode(Uint8Array.from(atob(m[1]), (ch) => ch.charCodeAt(0)));
  } catch {
    return null;
  }
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * Who may call the ML backend routes. Label Studio can only send HTTP Basic to an ML backend
 * (label_studio/ml/models.py MLBackendAuth: NONE or BASIC_AUTH), as label-studio-ml-backend
 * checks it (label_studio_ml/api.py `check_auth`, BASIC_AUTH_USER / BASIC_AUTH_PASS):
 * - Basic credentials configured: only those;
 * - else API keys, unless reads are public: `Authorization: Bearer <key>`, or Basic with the key
 *   as password (any user name) so a Label Studio project can connect;
 * - else open if reads are public (PIE_PUBLIC_READS=true);
 * - else (no credentials of any kind) closed: every route refuses, naming the settings.
 */
export const requireLabelStudioAuth: MiddlewareHandler<AppEnv> = async (c, next) => {
  const { labelStudio, apiKeys, publicReads } = c.var.options;
  const header = c.req.header('authorization');
  checkBearerShape(header);
  const basic = basicCredentials(header);
  let ok: boolean;
  let wanted = '';
  if (labelStudio.basicAuth) {
    wanted = 'the HTTP Basic credentials set in the Label Studio model connection';
    const want = labelStudio.basicAuth;
    // Both compared, always, so the time taken does not tell which one was wrong.
    const user = safeEqual(basic?.username ?? '', want.username), pass = safeEqual(basic?.password ?? '', want.password);
    ok = !!basic && user && pass;
  } else if (apiKeys.length && !publicReads) {
    wanted = 'an API key: Authorization: Bearer <key>, or HTTP Basic with the key as password';
    ok = hasValidKey(header, apiKeys) || (!!basic && apiKeys.some((k) => safeEqual(basic.password, k)));
  } else if (publicReads) {
    ok = true;
  } else {
    wanted = 'credentials, and none are configured (set LABEL_STUDIO_BASIC_AUTH_USER/_PASS or PIE_API_KEYS, or PIE_PUBLIC_READS=true)';
    ok = false;
  }
  if (ok) return next();
  return c.json(errorBody('unauthorized', `missing or wrong credentials: the ML backend routes need ${wanted}`), 401, {
    'WWW-Authenticate': REALM,
  });
};
