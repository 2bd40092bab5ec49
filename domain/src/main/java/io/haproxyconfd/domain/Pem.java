package io.haproxyconfd.domain;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads PEM blocks and re-wraps the two legacy private-key encodings as PKCS#8. */
final class Pem {
  private Pem() {}

  record Block(String label, byte[] der) {}

  private static final Pattern BLOCK =
      Pattern.compile(
          "-----BEGIN ([A-Z0-9 ]{1,40})-----\\r?\\n([A-Za-z0-9+/=\\r\\n]+?)-----END \\1-----");
  private static final Pattern ALLOWED = Pattern.compile("[\\x20-\\x7e\\r\\n\\t]*");

  static List<Block> blocks(String text) {
    if (!ALLOWED.matcher(text).matches()) {
      throw new IllegalArgumentException(
          "PEM bundle holds characters that are not printable ASCII");
    }
    List<Block> blocks = new ArrayList<>();
    Matcher m = BLOCK.matcher(text);
    int end = 0;
    while (m.find()) {
      if (!text.substring(end, m.start()).isBlank()) {
        throw new IllegalArgumentException("PEM bundle holds text outside BEGIN/END blocks");
      }
      try {
        blocks.add(new Block(m.group(1), Base64.getMimeDecoder().decode(m.group(2))));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("PEM block " + m.group(1) + " is not valid base64");
      }
      end = m.end();
    }
    if (!text.substring(end).isBlank()) {
      throw new IllegalArgumentException("PEM bundle holds text outside BEGIN/END blocks");
    }
    return blocks;
  }

  static String encode(String label, byte[] der) {
    String body = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der);
    return "-----BEGIN " + label + "-----\n" + body + "\n-----END " + label + "-----\n";
  }

  private static final byte[] RSA_ALGORITHM = {
    0x30,
    0x0d,
    0x06,
    0x09,
    0x2a,
    (byte) 0x86,
    0x48,
    (byte) 0x86,
    (byte) 0xf7,
    0x0d,
    0x01,
    0x01,
    0x01,
    0x05,
    0x00
  };
  private static final byte[] EC_PUBLIC_KEY_OID = {
    0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01
  };

  /** PKCS#1 {@code RSA PRIVATE KEY} to PKCS#8. */
  static byte[] rsaToPkcs8(byte[] pkcs1) {
    return sequence(new byte[] {0x02, 0x01, 0x00}, RSA_ALGORITHM, tlv(0x04, pkcs1));
  }

  /** SEC1 {@code EC PRIVATE KEY} to PKCS#8; the curve comes from the key's own parameters. */
  static byte[] ecToPkcs8(byte[] sec1) {
    byte[] curveOid = findCurveOid(sec1);
    byte[] algorithm = tlv(0x30, concat(EC_PUBLIC_KEY_OID, curveOid));
    return sequence(new byte[] {0x02, 0x01, 0x00}, algorithm, tlv(0x04, sec1));
  }

  /** SEC1: SEQUENCE { INTEGER 1, OCTET STRING key, [0] OID curve, [1] BIT STRING public }. */
  private static byte[] findCurveOid(byte[] sec1) {
    Der outer = new Der(sec1, 0);
    if (outer.tag != 0x30) {
      throw new IllegalArgumentException("EC private key is not a DER sequence");
    }
    int pos = outer.contentStart;
    while (pos < outer.contentEnd) {
      Der item = new Der(sec1, pos);
      if (item.tag == 0xa0) {
        Der oid = new Der(sec1, item.contentStart);
        if (oid.tag != 0x06) {
          break;
        }
        return java.util.Arrays.copyOfRange(sec1, item.contentStart, oid.contentEnd);
      }
      pos = item.contentEnd;
    }
    throw new IllegalArgumentException("EC private key does not name its curve");
  }

  /** One DER tag-length-value header, bounds-checked. */
  private static final class Der {
    final int tag;
    final int contentStart;
    final int contentEnd;

    Der(byte[] data, int offset) {
      if (offset + 2 > data.length) {
        throw new IllegalArgumentException("truncated DER");
      }
      tag = data[offset] & 0xff;
      int first = data[offset + 1] & 0xff;
      int pos = offset + 2;
      int length;
      if (first < 0x80) {
        length = first;
      } else {
        int bytes = first & 0x7f;
        if (bytes < 1 || bytes > 3 || pos + bytes > data.length) {
          throw new IllegalArgumentException("bad DER length");
        }
        length = 0;
        for (int i = 0; i < bytes; i++) {
          length = (length << 8) | (data[pos++] & 0xff);
        }
      }
      contentStart = pos;
      contentEnd = pos + length;
      if (contentEnd > data.length) {
        throw new IllegalArgumentException("truncated DER");
      }
    }
  }

  private static byte[] sequence(byte[]... parts) {
    return tlv(0x30, concat(parts));
  }

  private static byte[] tlv(int tag, byte[] content) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(tag);
    int n = content.length;
    if (n < 0x80) {
      out.write(n);
    } else if (n < 0x100) {
      out.write(0x81);
      out.write(n);
    } else if (n < 0x10000) {
      out.write(0x82);
      out.write(n >> 8);
      out.write(n);
    } else {
      out.write(0x83);
      out.write(n >> 16);
      out.write(n >> 8);
      out.write(n);
    }
    out.writeBytes(content);
    return out.toByteArray();
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }
}
