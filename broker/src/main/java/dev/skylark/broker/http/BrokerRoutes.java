package dev.skylark.broker.http;

import dev.skylark.broker.auth.AdminApi;
import dev.skylark.broker.auth.AuthService;
import dev.skylark.broker.status.CountersFile;
import dev.skylark.broker.status.CountersSnapshot;
import dev.skylark.broker.status.PrometheusRenderer;

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
        router
            .route("/metrics", (request) -> HttpResponse.ok(PrometheusRenderer.CONTENT_TYPE,
                PrometheusRenderer.render(CountersSnapshot.of(countersFile.reader()))))
            .route("/readyz", (request) -> ready.getAsBoolean() ?
                HttpResponse.text(200, "OK", "ready\n") : HttpResponse.text(503, "Service Unavailable", "starting\n"));
        if (auth != null)
        {
            final AdminApi admin = new AdminApi(auth).retained(retained);
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
}
