/**
 * Who a hub token is to the service: wod admin rights come from the scopes the hub reports for the
 * token, never from the user's admin flag.
 */
import { Identities, WOD_ADMIN_SCOPE } from '../../hub-service/src/auth/identity';
import { HubApiError, type HubIdentity } from '../../hub-service/src/hub/client';

const ACCESS = ['access:services', 'access:services!service=wod'];

/** A hub that knows a few tokens; counts the questions it was asked. */
function hubKnowing(tokens: Record<string, Partial<HubIdentity>>) {
  const asked: string[] = [];
  const hub = {
    identify: async (token: string): Promise<HubIdentity> => {
      asked.push(token);
      const who = tokens[token];
      if (!who) throw new HubApiError('GET', '/user', 403, 'Forbidden');
      return { kind: 'user', name: 'someone', admin: false, groups: [], server: null, pending: null, last_activity: null, scopes: [], ...who };
    },
  };
  return { hub, asked };
}

test('a hub admin whose token lacks custom:wod:admin is not a wod admin', async () => {
  // The scopes of an admin's own JupyterLab page token, or of a token made with only this scope.
  const { hub } = hubKnowing({ narrowed: { name: 'admin', admin: true, scopes: ['access:services!service=wod', 'read:users:name!user=admin'] } });
  expect(await new Identities(hub, ACCESS).resolve('narrowed')).toEqual({ name: 'admin', wodAdmin: false, scopes: ['access:services!service=wod', 'read:users:name!user=admin'] });
});

test('a token carrying custom:wod:admin is a wod admin, whether or not its user is a hub admin', async () => {
  const { hub } = hubKnowing({
    full: { name: 'admin', admin: true, scopes: ['access:services', 'admin:users', WOD_ADMIN_SCOPE] },
    trainer: { name: 'trainer', admin: false, scopes: ['access:services!service=wod', WOD_ADMIN_SCOPE] },
  });
  const identities = new Identities(hub, ACCESS);
  expect((await identities.resolve('full'))?.wodAdmin).toBe(true);
  expect((await identities.resolve('trainer'))?.wodAdmin).toBe(true);
});

test('a filtered or look-alike scope is not the wod admin scope', async () => {
  const { hub } = hubKnowing({
    filtered: { name: 'eve', scopes: ['access:services!service=wod', `${WOD_ADMIN_SCOPE}!user=eve`] },
    lookalike: { name: 'eve', scopes: ['access:services!service=wod', 'custom:wod:administrator'] },
  });
  const identities = new Identities(hub, ACCESS);
  expect((await identities.resolve('filtered'))?.wodAdmin).toBe(false);
  expect((await identities.resolve('lookalike'))?.wodAdmin).toBe(false);
});

test('a token without access to the service, a service token or a refused token is nobody', async () => {
  const { hub } = hubKnowing({
    elsewhere: { name: 'admin', admin: true, scopes: ['access:servers!server=admin/', WOD_ADMIN_SCOPE] },
    service: { kind: 'service' as unknown as 'user', name: 'other', scopes: ACCESS },
  });
  const identities = new Identities(hub, ACCESS);
  expect(await identities.resolve('elsewhere')).toBeNull();
  expect(await identities.resolve('service')).toBeNull();
  expect(await identities.resolve('revoked')).toBeNull();
});

test('the answer is remembered for a while, keyed by the token, and can be forgotten', async () => {
  let now = 0;
  const { hub, asked } = hubKnowing({ t: { name: 'admin', admin: true, scopes: ['access:services!service=wod'] } });
  const identities = new Identities(hub, ACCESS, 60_000, () => now);
  await identities.resolve('t');
  await identities.resolve('t');
  expect(asked).toEqual(['t']);
  now = 60_001;
  await identities.resolve('t');
  expect(asked).toEqual(['t', 't']);
  identities.forgetUser('admin');
  await identities.resolve('t');
  expect(asked).toHaveLength(3);
});
