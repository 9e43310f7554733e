import { Code, ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import { AccountService } from "@chorus/contracts/chorus/api/v1/accounts_pb";
import { ErrorReasonSchema } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { InvalidFieldsError, RequestRefusedError, UnauthorizedError, UnknownUserError, type FieldErrorReason } from "./accounts/account-errors.js";
import { loginSchema, profileChangesSchema, registrationSchema, validate } from "./accounts/account-rules.js";
import { DEFAULT_LOCALE, TokenKind, type Accounts, type Session } from "./accounts/accounts.js";
import { publicProfile } from "@chorus/discord-json/user-flags";

const CODE_OF_REASON: Record<FieldErrorReason, Code> = {
  invalid: Code.InvalidArgument,
  conflict: Code.AlreadyExists,
  credentials: Code.Unauthenticated,
};

const CODE_OF_REFUSAL: Record<RequestRefusedError["kind"], Code> = {
  not_found: Code.NotFound,
  forbidden: Code.PermissionDenied,
  precondition: Code.FailedPrecondition,
};

/**
 * Account errors as Connect errors; messages start with the field, as everywhere in the mesh.
 * Refusals carry Discord's code in an ErrorReason detail, as the guild service's errors do.
 */
function toConnectError(err: unknown): unknown {
  if (err instanceof InvalidFieldsError) return new ConnectError(err.message, CODE_OF_REASON[err.reason]);
  if (err instanceof RequestRefusedError) {
    return new ConnectError(`${err.field}: ${err.message}`, CODE_OF_REFUSAL[err.kind], undefined, [{ desc: ErrorReasonSchema, value: { code: err.code } }]);
  }
  if (err instanceof UnauthorizedError) return new ConnectError(`authorization: ${err.message}`, Code.Unauthenticated);
  if (err instanceof UnknownUserError) return new ConnectError(`user_id: ${err.message}`, Code.NotFound);
  return err;
}

/** Runs a handler, answering the errors of the account, application and relationship logic as Connect errors. */
export async function answer<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw toConnectError(err);
  }
}

const BEARER = /^Bearer\s+(\S+)$/i;

/** The person's session of a Connect call's `Authorization: Bearer <token>`. */
export function bearerSession(accounts: Accounts, ctx: HandlerContext): Promise<Session> {
  const token = BEARER.exec(ctx.requestHeader.get("authorization") ?? "")?.[1];
  if (!token) throw new UnauthorizedError("missing Bearer token");
  return accounts.authenticate(token, [TokenKind.USER]);
}

/**
 * chorus.api.v1.AccountService: the account API of first-party clients, on the same domain
 * logic and validation as the Discord routes. Authenticated calls carry
 * `Authorization: Bearer <token>` with a person's token.
 */
export function accountRoutes(accounts: Accounts) {
  const session = (ctx: HandlerContext): Promise<Session> => bearerSession(accounts, ctx);

  return (router: ConnectRouter) =>
    router.service(AccountService, {
      register: (req) =>
        answer(async () => {
          const registration = validate(registrationSchema, {
            username: req.username,
            email: req.email,
            password: req.password,
            global_name: req.globalName,
          });
          const { token, user } = await accounts.register(registration);
          return { token, userId: user.id };
        }),

      login: (req) =>
        answer(async () => {
          const { token, user } = await accounts.login(validate(loginSchema, { login: req.login, password: req.password }));
          return { token, userId: user.id, locale: user.locale || DEFAULT_LOCALE };
        }),

      logout: (_req, ctx) =>
        answer(async () => {
          await accounts.logout(await session(ctx));
          return {};
        }),

      getCurrentUser: (_req, ctx) => answer(async () => ({ user: await accounts.currentUser(await session(ctx)) })),

      updateCurrentUser: (req, ctx) =>
        answer(async () => {
          const caller = await session(ctx);
          const paths = new Set(req.updateMask?.paths ?? []);
          const unknown = [...paths].filter((p) => !["username", "global_name", "avatar", "email"].includes(p));
          if (unknown.length > 0) {
            throw new InvalidFieldsError([{ path: ["update_mask"], code: "BASE_TYPE_CHOICES", message: `cannot update ${unknown.join(", ")}` }]);
          }
          const user = req.user;
          const changes = validate(profileChangesSchema, {
            username: paths.has("username") ? user?.username ?? "" : undefined,
            global_name: paths.has("global_name") ? user?.globalName ?? null : undefined,
            avatar: paths.has("avatar") ? user?.avatar ?? null : undefined,
            email: paths.has("email") ? user?.email ?? "" : undefined,
            password: req.password || undefined,
          });
          return { user: await accounts.updateCurrentUser(caller, changes) };
        }),

      getUser: (req, ctx) =>
        answer(async () => {
          await session(ctx);
          return { user: publicProfile(await accounts.getUser(req.userId)) };
        }),
    });
}
