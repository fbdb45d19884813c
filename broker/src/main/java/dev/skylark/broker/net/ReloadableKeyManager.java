package dev.skylark.broker.net;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;

/**
 * The TLS listeners' key manager: it hands every new handshake the certificate and key loaded last, so a reload
 * (SIGHUP) swaps in a renewed certificate without closing a listener or a connection. The swap is one volatile
 * write; handshakes read it once.
 */
public final class ReloadableKeyManager extends X509ExtendedKeyManager
{
    private volatile X509ExtendedKeyManager delegate;

    public ReloadableKeyManager(final X509ExtendedKeyManager first)
    {
        delegate = first;
    }

    /** From the next handshake on, serve this one. */
    public void swap(final X509ExtendedKeyManager next)
    {
        delegate = next;
    }

    @Override
    public String[] getClientAliases(final String keyType, final Principal[] issuers)
    {
        return delegate.getClientAliases(keyType, issuers);
    }

    @Override
    public String chooseClientAlias(final String[] keyType, final Principal[] issuers, final Socket socket)
    {
        return delegate.chooseClientAlias(keyType, issuers, socket);
    }

    @Override
    public String[] getServerAliases(final String keyType, final Principal[] issuers)
    {
        return delegate.getServerAliases(keyType, issuers);
    }

    @Override
    public String chooseServerAlias(final String keyType, final Principal[] issuers, final Socket socket)
    {
        return delegate.chooseServerAlias(keyType, issuers, socket);
    }

    @Override
    public String chooseEngineServerAlias(final String keyType, final Principal[] issuers, final SSLEngine engine)
    {
        return delegate.chooseEngineServerAlias(keyType, issuers, engine);
    }

    @Override
    public String chooseEngineClientAlias(final String[] keyType, final Principal[] issuers, final SSLEngine engine)
    {
        return delegate.chooseEngineClientAlias(keyType, issuers, engine);
    }

    @Override
    public X509Certificate[] getCertificateChain(final String alias)
    {
        return delegate.getCertificateChain(alias);
    }

    @Override
    public PrivateKey getPrivateKey(final String alias)
    {
        return delegate.getPrivateKey(alias);
    }
}
