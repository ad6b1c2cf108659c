// The AT Protocol's reference network (PLC + PDS + AppView) for Storyloom's Bluesky tests.
//
// Started by tests/integration/atproto.py. Reads its settings from the environment:
//   DB_POSTGRES_URL     PostgreSQL the AppView and Ozone keep their tables in (required)
//   DB_POSTGRES_SCHEMA  schema name prefix, one per test run (default storyloom)
//   REDIS_HOST          host:port of Redis for the AppView (default 127.0.0.1:6379)
// Creates the accounts the tests use, each with an app password, then prints one JSON
// line: {"pds": …, "plc": …, "appview": …, "accounts": {name: {did, handle, password,
// appPassword}}, "startedInMs": …}. It stops (closing every server, so the schemas can be
// dropped) on SIGTERM, SIGINT or when its stdin closes, which is what happens when the
// process that started it dies.
//
// While it runs, a line "process\n" on stdin makes the AppView index everything the PDS
// has written so far and answers "processed\n": tests use it instead of sleeping.
'use strict'

const readline = require('node:readline')
const { TestNetwork } = require('@atproto/dev-env')

// alice is the account Storyloom connects; bob reposts, likes, replies and quotes.
const ACCOUNTS = ['alice', 'bob']

async function main() {
  const started = Date.now()
  process.env.REDIS_HOST = process.env.REDIS_HOST || '127.0.0.1:6379'
  const network = await TestNetwork.create({
    dbPostgresUrl: process.env.DB_POSTGRES_URL,
    dbPostgresSchema: process.env.DB_POSTGRES_SCHEMA || 'storyloom',
  })
  const seed = network.getSeedClient()
  const accounts = {}
  for (const name of ACCOUNTS) {
    const handle = `${name}.test`
    const password = `${name}-password`
    await seed.createAccount(name, { handle, email: `${name}@example.test`, password })
    const agent = network.pds.getClient()
    await agent.login({ identifier: handle, password })
    const { data } = await agent.com.atproto.server.createAppPassword({ name: 'storyloom' })
    accounts[name] = { did: seed.dids[name], handle, password, appPassword: data.password }
  }
  await network.processAll()

  let stopping = null
  const stop = () => {
    stopping = stopping || network.close().then(() => process.exit(0), (error) => {
      console.error(error)
      process.exit(1)
    })
    return stopping
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  const input = readline.createInterface({ input: process.stdin })
  input.on('line', async (line) => {
    if (line.trim() !== 'process') return
    try {
      await network.processAll()
      process.stdout.write('processed\n')
    } catch (error) {
      process.stdout.write(`failed ${JSON.stringify(String(error))}\n`)
    }
  })
  input.on('close', stop)

  process.stdout.write(
    JSON.stringify({
      pds: network.pds.url,
      plc: network.plc.url,
      appview: network.bsky.url,
      accounts,
      startedInMs: Date.now() - started,
    }) + '\n',
  )
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
