/**
 * Token authentication, topic ACLs and credential management. The only package that imports {@code org.jose4j}.
 * <p>
 * The session layer calls one method at each point: {@link dev.skylark.broker.auth.Authenticator#authenticate} at
 * CONNECT (once, before the routing agent hears of the connection), and on the returned
 * {@link dev.skylark.broker.auth.ClientGrant}: {@code mayPublish} per PUBLISH (allocation-free, precompiled filters),
 * {@code maySubscribe} per SUBSCRIBE entry, {@code liveCheck} on the slow tick (revocation through a volatile epoch of
 * the {@link dev.skylark.broker.auth.RevocationList}, expiry against the wall clock).
 * <p>
 * MQTT 5 enhanced authentication: {@link dev.skylark.broker.auth.AuthMethods} holds the
 * {@link dev.skylark.broker.auth.AuthMethod}s by name; the session layer drives their exchanges (AUTH 0x18 steps at
 * CONNECT, AUTH 0x19 re-authentication) and a method only judges data, answering an
 * {@link dev.skylark.broker.auth.AuthStep}. {@link dev.skylark.broker.auth.JwtAuthMethod} ({@code skylark-jwt}) is
 * the password-token check with the token in the Authentication Data.
 * <p>
 * State lives in {@code <data.dir>/auth/}: {@code signing-keys.json} ({@link dev.skylark.broker.auth.KeyRing}, 0600),
 * {@code revoked-jti.txt} ({@link dev.skylark.broker.auth.RevocationList}) and {@code admin-token} (the bearer token of
 * the {@link dev.skylark.broker.auth.AdminApi}). {@link dev.skylark.broker.auth.AuthService} ties them together and
 * watches the files so that changes made by the {@code skylark token|keys} commands reach a running broker.
 */
package dev.skylark.broker.auth;
