-- 019_agents.sql — the people who work in lull-admin: each agent has its own token (only a salted slow hash of
-- it is stored, with its algorithm and parameters, so they can change) and a role (`admin`: every route;
-- `agent`: conversations, replies, hand-backs, escalations). Revoking keeps the row (replies stay attributed);
-- a revoked name can be given to a new agent. Every human reply records its agent on the message, and every
-- person's action on a conversation (reply, hand back, take over) is a row of agent_actions: a history, not
-- only the last one, so the conversation view can say who paused it and who handed it back, and when.
CREATE TABLE agents (
  id            bigserial PRIMARY KEY,
  name          text NOT NULL CHECK (name ~ '^[A-Za-z0-9._ -]{1,64}$'),
  display_name  text NOT NULL DEFAULT '' CHECK (length(display_name) <= 128),
  role          text NOT NULL CHECK (role IN ('admin', 'agent')),
  token_hash    text NOT NULL CHECK (length(token_hash) <= 512),  -- "pbkdf2-sha256$<iterations>$<salt>$<hash>"
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz
);
CREATE UNIQUE INDEX agents_active_name_key ON agents (name) WHERE revoked_at IS NULL;

-- A person's message: the agent who sent it (NULL: the bootstrap LULL_ADMIN_TOKEN, or not sent from lull-admin),
-- and the name it acted under (`admin` for the bootstrap token; NULL for the bot, the contact, or a message the
-- business sent from the provider's own app).
ALTER TABLE messages ADD COLUMN agent_id bigint REFERENCES agents (id);
ALTER TABLE messages ADD COLUMN agent_name text;

CREATE TABLE agent_actions (
  id               bigserial PRIMARY KEY,
  conversation_id  bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  agent_id         bigint REFERENCES agents (id),  -- NULL: the bootstrap LULL_ADMIN_TOKEN
  agent_name       text NOT NULL,                  -- the agent's name then ("admin" for the bootstrap token)
  action           text NOT NULL CHECK (action IN ('reply', 'handback', 'takeover')),
  message_id       bigint REFERENCES messages (id) ON DELETE SET NULL,  -- a reply's message
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agent_actions_conversation_idx ON agent_actions (conversation_id, id);
