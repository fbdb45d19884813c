package dev.skylark.broker.http;

import dev.skylark.broker.auth.AdminApi;
import dev.skylark.broker.auth.AuthCounters;
import dev.skylark.broker.auth.AuthService;
import dev.skylark.broker.status.CountersFile;
import dev.skylark.broker.status.CountersSnapshot;
import dev.skylark.broker.status.PrometheusRenderer;

import dev.skylark.codec.mqtt.ReasonCode;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.BooleanSupplier;

/**
 * The broker's operational HTTP paths: {@code /metrics} (Prometheus text, from the counters file), {@code /readyz}
 * (listeners up), and the admin API under {@code /admin/v1/} (token mode only; loopback peers only unless remote
 * admin is allowed). Mounted once by the broker before its listeners open.
 */
public final class BrokerRoutes
{
    /** The property that lets the admin API answer peers on other machines (named in the 403 answer). */
    private static final String ADMIN_REMOTE_PROP_NAME = "skylark.admin.remote";

    private BrokerRoutes()
    {
    }

    /**
     * @param router        where the routes go.
     * @param countersFile  the counters {@code /metrics} renders.
     * @param ready         true once the broker has started.
     * @param auth          token authentication, or null when auth mode is none (no admin API then).
     * @param adminRemote   true: the admin API answers peers that are not on this machine too.
     */
    public static void mount(
        final HttpRouter router,
        final CountersFile countersFile,
        final BooleanSupplier ready,
        final AuthService auth,
        final boolean adminRemote)
    {
        mount(router, countersFile, ready, auth, adminRemote, null);
    }

    /** As above, with the admin API's {@code /admin/v1/retained} answered through {@code retained} (null: none). */
    public static void mount(
        final HttpRouter router,
        final CountersFile countersFile,
        final BooleanSupplier ready,
        final AuthService auth,
        final boolean adminRemote,
        final AdminApi.RetainedAccess retained)
    {
        mount(router, countersFile, ready, auth, adminRemote, retained, null);
    }

    /** As above, with {@code /admin/v1/nodes} answered by {@code nodes} (null: not a cluster). */
    public static void mount(
        final HttpRouter router,
        final CountersFile countersFile,
        final BooleanSupplier ready,
        final AuthService auth,
        final boolean adminRemote,
        final AdminApi.RetainedAccess retained,
        final java.util.function.Supplier<String> nodes)
    {
        router
            .route("/metrics", (request) -> HttpResponse.ok(PrometheusRenderer.CONTENT_TYPE,
                PrometheusRenderer.render(CountersSnapshot.of(countersFile.reader()),
                    auth == null ? List.of() : authSamples(auth.counters()))))
            .route("/readyz", (request) -> ready.getAsBoolean() ?
                HttpResponse.text(200, "OK", "ready\n") : HttpResponse.text(503, "Service Unavailable", "starting\n"));
        if (auth != null)
        {
            final AdminApi admin = new AdminApi(auth).retained(retained).nodes(nodes);
            router.route("/admin/v1/", (request) ->
            {
                if (!request.loopback() && !adminRemote)
                {
                    return HttpResponse.text(403, "Forbidden", "the admin API answers on loopback only (" +
                        ADMIN_REMOTE_PROP_NAME + ")\n");
                }
                final AdminApi.Response response = admin.handle(request.method(), request.path() +
                    (request.query() != null ? "?" + request.query() : ""), request.header("Authorization"),
                    request.body());
                return HttpResponse.of(response.status(), response.contentType(), response.body());
            });
        }
    }

    /** Paths the management listener takes over from the public HTTP listener. */
    private static final String[] MANAGEMENT_PATHS = {"/metrics", "/healthz", "/readyz", "/admin/v1/"};

    /**
     * The router of the management listener ({@code skylark.management.port}): {@code /healthz} here, and the
     * operational paths mounted by {@link #mount}; the public router loses every one of them (it keeps the demo page
     * and MQTT over WebSocket).
     */
    public static HttpRouter managementRouter(final HttpRouter publicRouter)
    {
        for (final String path : MANAGEMENT_PATHS)
        {
            publicRouter.without(path);
        }
        return new HttpRouter().route("/healthz", (request) -> HttpResponse.text(200, "OK", "ok\n"));
    }

    /** Reason codes a refused CONNECT always has a series for (others appear once counted). */
    private static final int[] REFUSAL_REASONS = {
        ReasonCode.CLIENT_IDENTIFIER_NOT_VALID, ReasonCode.BAD_USER_NAME_OR_PASSWORD, ReasonCode.NOT_AUTHORIZED};

    /** Authentication's counters (kept by the auth package in {@link AuthCounters}) as Prometheus counters. */
    static List<PrometheusRenderer.Sample> authSamples(final AuthCounters counters)
    {
        final List<PrometheusRenderer.Sample> samples = new ArrayList<>();
        final String refused = "CONNECTs refused for their token, by reason code";
        for (int code = 0; code < counters.connectsRefusedByReason.length(); code++)
        {
            final long value = counters.connectsRefusedByReason.get(code);
            if (value > 0 || alwaysShown(code))
            {
                samples.add(new PrometheusRenderer.Sample("skylark_auth_connects_refused", refused, "reason",
                    reasonLabel(code), value));
            }
        }
        final String denied = "publishes and subscriptions refused by a token's ACL";
        samples.add(new PrometheusRenderer.Sample("skylark_auth_acl_denied", denied, "action", "publish",
            counters.publishesDenied.get()));
        samples.add(new PrometheusRenderer.Sample("skylark_auth_acl_denied", denied, "action", "subscribe",
            counters.subscriptionsDenied.get()));
        samples.add(new PrometheusRenderer.Sample("skylark_auth_token_expiries",
            "live connections closed because their token expired", null, null, counters.expiredDisconnects.get()));
        samples.add(new PrometheusRenderer.Sample("skylark_auth_token_revocations",
            "live connections closed because their token was revoked", null, null, counters.revokedDisconnects.get()));
        final String reauth = "re-authentications (AUTH 0x19 with a new token), by result";
        samples.add(new PrometheusRenderer.Sample("skylark_auth_reauthentications", reauth, "result", "accepted",
            counters.reauthentications.get()));
        samples.add(new PrometheusRenderer.Sample("skylark_auth_reauthentications", reauth, "result", "refused",
            counters.reauthenticationsRefused.get()));
        return samples;
    }

    private static boolean alwaysShown(final int code)
    {
        for (final int reason : REFUSAL_REASONS)
        {
            if (reason == code)
            {
                return true;
            }
        }
        return false;
    }

    /** "0x86 Bad User Name or Password" → {@code bad_user_name_or_password}. */
    static String reasonLabel(final int code)
    {
        final String described = ReasonCode.describe(code);
        final int space = described.indexOf(' ');
        return (space < 0 ? described : described.substring(space + 1)).toLowerCase(Locale.ROOT)
            .replaceAll("[^a-z0-9]+", "_").replaceAll("^_|_$", "");
    }
}
