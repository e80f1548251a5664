export type TokenKind = 'admin' | 'device';

export interface TokenRecord {
  id: string;
  kind: TokenKind;
  name: string;
  /** sha256 of the token, hex. The token itself is never stored. */
  hash: string;
  /** A device token may be limited to one product and/or one device id. */
  product: string | null;
  device: string | null;
  createdAt: string;
}

export interface TokenRepository {
  create(token: TokenRecord): Promise<void>;
  list(kind?: TokenKind): Promise<TokenRecord[]>;
  delete(id: string): Promise<boolean>;
}
