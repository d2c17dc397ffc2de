"""Tenants: isolated keyspaces, statistics, quotas and eviction (DESIGN.md, Tenants).

- tenant.py    the Tenant object (keyspace, stats, quota, policy, limits)
- registry.py  the registry (`server.tenants`, `default` always present), the
               user -> tenant mapping and switching a client into a tenant
- evict.py     memory usage per tenant, the quota/maxmemory check for `denyoom`
               commands, eviction by sampling, the LRU/LFU access clocks

The rules, in one place
-----------------------
* The `default` tenant owns the server's keyspace and Stats: with only
  `default`, nothing here runs on the hot path and securekv is Redis.
* A connection's tenant is its user's (`tenant_for_user`), fixed at
  authentication; `TENANT USE` lets an operator work inside a tenant (audited).
* Quota (tenant `maxmemory`): before every command (as Redis's
  performEvictions, only while some limit is set), when the tenant's dataset
  estimate is above its quota, keys of THAT tenant are evicted by its policy
  until it is under. If that is impossible, a `denyoom` command (or, inside
  MULTI, any command but EXEC/DISCARD/QUIT/RESET; or an EXEC whose queue holds
  a `denyoom` command) gets
  `-OOM command not allowed when used memory > 'maxmemory' of tenant '<name>' ...`.
  Lowering a quota (TENANT SET) or `maxmemory` (CONFIG SET) evicts at once.
* `maxkeys` refuses, with -OOM, only the commands above that would add a key.
* Global `maxmemory`: compared with the sum of every tenant's dataset estimate.
  When it is exceeded, eviction only takes keys from (a) tenants WITHOUT a quota
  (they share the global pool, like Redis's one keyspace) and (b) the tenant
  issuing a `denyoom` command (its own load), largest first, each by its own policy (`maxmemory-policy`
  when the tenant has none). A tenant with a quota that is under it is never
  evicted because of someone else's load: a quota is a reservation. If nothing
  can be freed the writer gets Redis's `-OOM command not allowed when used
  memory > 'maxmemory'.` With only `default` this is exactly Redis's rule.
* `maxmemory` and tenant quotas bound the dataset estimate (engine/memory.py),
  not the interpreter's baseline RSS (INFO used_memory adds that baseline).
Persistence and replication (the representation, for the RDB/AOF/replication issues)
----------------------------------------------------------------------------------
Nothing below is written while only `default` exists, so files and streams stay
exactly Redis's.
* RDB: the default tenant's databases first, exactly as Redis. Then, per other
  tenant, an AUX field `securekv-tenant` = `<name> <options as TENANT CREATE
  words>`, followed by that tenant's SELECTDB/RESIZEDB/key records; the loader
  switches its target keyspace on that AUX field (Redis would mix such keys into
  its own databases, so an RDB holding tenants is securekv-only by design).
  User bindings live with the users (ACL file / `user` lines: `tenant=<name>`).
* AOF and replication: like SELECT, a write of another tenant is preceded by
  `TENANT USE <name>` when the stream's current tenant changes (and the SELECT
  that follows is relative to that tenant); `TENANT USE default` goes back.
  The propagation seam needs the keyspace of the write for this: writes from
  clients carry it (`c.keyspace`); expiry (`Keyspace.on_expired`) and
  eviction (`evict.evict_one`) currently pass no client and must pass the
  tenant's keyspace too.
"""
