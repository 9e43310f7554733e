import type { FastifyInstance } from "fastify";
import { loginSchema, registrationSchema, validate } from "../../accounts/account-rules.js";
import { DEFAULT_LOCALE, type Accounts } from "../../accounts/accounts.js";
import { requireSession } from "../auth.js";

/** Discord's account routes: /auth/register, /auth/login, /auth/logout. */
export function authRoutes(accounts: Accounts) {
  return async (app: FastifyInstance) => {
    // 201 {token} as Discord, plus user_id (as /auth/login gives it) so clients need no lookup.
    app.post("/auth/register", async (request, reply) => {
      const registration = validate(registrationSchema, request.body ?? {});
      const { token, user } = await accounts.register(registration);
      return reply.code(201).send({ token, user_id: user.id.toString() });
    });

    app.post("/auth/login", async (request) => {
      const login = validate(loginSchema, request.body ?? {});
      const { token, user } = await accounts.login(login);
      return { token, user_id: user.id.toString(), user_settings: { locale: user.locale || DEFAULT_LOCALE, theme: "dark" } };
    });

    app.post("/auth/logout", async (request, reply) => {
      const session = await requireSession(accounts, request);
      await accounts.logout(session);
      return reply.code(204).send();
    });
  };
}
