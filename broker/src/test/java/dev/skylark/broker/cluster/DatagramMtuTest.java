package dev.skylark.broker.cluster;

import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Collections;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The MTU of a node's Aeron streams follows what its interface carries unfragmented: 8 KiB datagrams on loopback (and
 * jumbo frames), Aeron's 1,408 on ordinary Ethernet and wherever the address is not this machine's.
 */
class DatagramMtuTest
{
    @Test
    void loopbackCarriesLargeDatagrams() throws SocketException
    {
        final NetworkInterface lo = NetworkInterface.getByInetAddress(InetAddress.getLoopbackAddress());
        assumeTrue(lo != null && lo.getMTU() >= ClusterNode.LARGE_MTU + 28, "loopback MTU " + (lo == null ? "?" :
            lo.getMTU()));
        assertEquals(ClusterNode.LARGE_MTU, ClusterNode.datagramMtu("127.0.0.1"));
    }

    @Test
    void anOrdinaryInterfaceOrAnAddressElsewhereKeepsAeronsDefault() throws SocketException
    {
        assertEquals(io.aeron.driver.Configuration.MTU_LENGTH_DEFAULT, ClusterNode.datagramMtu("192.0.2.1"));
        assertEquals(io.aeron.driver.Configuration.MTU_LENGTH_DEFAULT, ClusterNode.datagramMtu("no-such-host.invalid"));

        final Optional<InetAddress> ethernet = Collections.list(NetworkInterface.getNetworkInterfaces()).stream()
            .filter((nic) -> mtu(nic) > 0 && mtu(nic) < ClusterNode.LARGE_MTU + 28)
            .flatMap((nic) -> Collections.list(nic.getInetAddresses()).stream())
            .filter((address) -> address instanceof Inet4Address)
            .findFirst();
        assumeTrue(ethernet.isPresent(), "no IPv4 interface with an ordinary MTU here");
        assertEquals(io.aeron.driver.Configuration.MTU_LENGTH_DEFAULT,
            ClusterNode.datagramMtu(ethernet.get().getHostAddress()));
    }

    private static int mtu(final NetworkInterface nic)
    {
        try
        {
            return nic.isUp() && !nic.isLoopback() ? nic.getMTU() : -1;
        }
        catch (final SocketException ex)
        {
            return -1;
        }
    }
}
