package dev.bulwark.auth.tls;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.Provider;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

import org.bouncycastle.asn1.pkcs.ContentInfo;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.pkcs.PKCS12PfxPdu;
import org.bouncycastle.pkcs.PKCS12SafeBag;
import org.bouncycastle.pkcs.PKCS12SafeBagFactory;
import org.bouncycastle.pkcs.PKCSException;
import org.bouncycastle.pkcs.jcajce.JcePKCSPBEInputDecryptorProviderBuilder;
import org.bouncycastle.pkcs.jcajce.JcePKCS12MacCalculatorBuilderProvider;

/**
 * The trusted certificates of a PKCS12 file, read bag by bag: every certificate bag that does not go with a private
 * key (no {@code localKeyId}). {@link java.security.KeyStore} lists only the bags that carry Java's own trust
 * attribute (keytool's), so it would see nothing in a trust store made by {@code openssl pkcs12 -export -nokeys}.
 */
final class Pkcs12Trust {

    private Pkcs12Trust() {
    }

    /**
     * @throws TlsMaterialException in FIPS mode, always: a PKCS12 file's MAC (and its encryption, as written by the JDK
     *                              and OpenSSL) derives its key with PKCS#12's own derivation, which FIPS 140 does not
     *                              approve
     */
    static List<X509Certificate> read(Path file, String password) {
        if (PemFiles.fipsMode()) {
            throw new TlsMaterialException(file + ": FIPS mode cannot read PKCS12 trust stores (their MAC uses the"
                    + " PKCS#12 key derivation, which FIPS 140 does not approve); give the CA certificates as PEM");
        }
        char[] pw = password == null ? new char[0] : password.toCharArray();
        List<X509Certificate> certificates = new ArrayList<>();
        try {
            PKCS12PfxPdu pfx = new PKCS12PfxPdu(Files.readAllBytes(file));
            Provider bouncyCastle = PemFiles.bouncyCastle();
            if (pfx.hasMac()
                    && !pfx.isMacValid(new JcePKCS12MacCalculatorBuilderProvider().setProvider(bouncyCastle), pw)) {
                throw new TlsMaterialException(file + " cannot be opened: wrong password");
            }
            JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
            for (ContentInfo info : pfx.getContentInfos()) {
                PKCS12SafeBagFactory bags = info.getContentType().equals(PKCSObjectIdentifiers.encryptedData)
                        ? new PKCS12SafeBagFactory(info,
                                new JcePKCSPBEInputDecryptorProviderBuilder().setProvider(bouncyCastle).build(pw))
                        : new PKCS12SafeBagFactory(info);
                for (PKCS12SafeBag bag : bags.getSafeBags()) {
                    if (bag.getType().equals(PKCSObjectIdentifiers.certBag) && !hasLocalKeyId(bag)) {
                        certificates.add(converter.getCertificate((X509CertificateHolder) bag.getBagValue()));
                    }
                }
            }
        } catch (NoSuchFileException e) {
            throw new TlsMaterialException(file + " does not exist", e);
        } catch (AccessDeniedException e) {
            throw new TlsMaterialException(file + " cannot be read: permission denied", e);
        } catch (PKCSException e) {
            throw new TlsMaterialException(file + " cannot be opened: wrong password, or an unsupported encryption ("
                    + e.getMessage() + ")", e);
        } catch (IOException | CertificateException | RuntimeException e) {
            if (e instanceof TlsMaterialException t) {
                throw t;
            }
            throw new TlsMaterialException(file + " is not a PKCS12 file, or it is damaged: " + e.getMessage(), e);
        }
        return List.copyOf(certificates);
    }

    private static boolean hasLocalKeyId(PKCS12SafeBag bag) {
        var attributes = bag.getAttributes();
        if (attributes == null) {
            return false;
        }
        for (var attribute : attributes) {
            if (attribute.getAttrType().equals(PKCSObjectIdentifiers.pkcs_9_at_localKeyId)) {
                return true;
            }
        }
        return false;
    }
}
