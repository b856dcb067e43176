// The Java oracle server (issue 23): JDK SSLServerSocket with the default PKIX trust manager
// (TrustManagerFactory.getDefaultAlgorithm()) over the client-CA bundle, needClientAuth.
// Usage: java ClientAuthServer PORT SERVER_KEY_PKCS8_DER SERVER_CERT_PEM CLIENT_CA_BUNDLE
// Each handshake prints ACCEPT or REJECT with the exception chain on stdout.
import java.io.*;
import java.nio.file.*;
import java.security.*;
import java.security.cert.*;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.*;
import javax.net.ssl.*;

public class ClientAuthServer {
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        PrivateKey key = KeyFactory.getInstance("RSA")
            .generatePrivate(new PKCS8EncodedKeySpec(Files.readAllBytes(Paths.get(args[1]))));
        Collection<? extends java.security.cert.Certificate> serverChain;
        try (InputStream in = new FileInputStream(args[2])) { serverChain = cf.generateCertificates(in); }
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("server", key, "x".toCharArray(), serverChain.toArray(new java.security.cert.Certificate[0]));
        KeyStore ts = KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        int i = 0;
        try (InputStream in = new FileInputStream(args[3])) {
            for (java.security.cert.Certificate c : cf.generateCertificates(in)) ts.setCertificateEntry("ca" + (i++), c);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "x".toCharArray());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ts);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        SSLServerSocket ss = (SSLServerSocket) ctx.getServerSocketFactory()
            .createServerSocket(port, 50, java.net.InetAddress.getByName("127.0.0.1"));
        ss.setNeedClientAuth(true);
        System.out.println("LISTENING");
        System.out.flush();
        while (true) {
            try (SSLSocket s = (SSLSocket) ss.accept()) {
                s.setSoTimeout(5000);
                try {
                    s.startHandshake();
                    BufferedReader r = new BufferedReader(new InputStreamReader(s.getInputStream()));
                    r.readLine();
                    OutputStream out = s.getOutputStream();
                    out.write("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n".getBytes("US-ASCII"));
                    out.flush();
                    System.out.println("ACCEPT " + s.getSession().getPeerPrincipal());
                } catch (IOException e) {
                    StringBuilder b = new StringBuilder("REJECT ");
                    for (Throwable t = e; t != null; t = t.getCause()) {
                        b.append(t.getClass().getName()).append(": ").append(t.getMessage());
                        if (t.getCause() != null) b.append(" | ");
                    }
                    System.out.println(b);
                }
                System.out.flush();
            } catch (IOException e) {
                System.out.println("ACCEPT-ERROR " + e);
            }
        }
    }
}
