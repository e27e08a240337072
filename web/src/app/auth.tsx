// The API client and the signed-in user, for every component.
import { useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';

import type { Api } from '../api/api';
import type { Me } from '../api/types';

interface AuthState {
  api: Api;
  me: Me | null;
  status: 'checking' | 'signedOut' | 'signedIn';
  login: (username: string, password: string) => Promise<void>;
  logout: () => Promise<void>;
  can: (permission: string) => boolean;
}

const AuthContext = createContext<AuthState | null>(null);

export function AuthProvider({ api, children }: { api: Api; children: ReactNode }) {
  const queries = useQueryClient();
  const [me, setMe] = useState<Me | null>(null);
  const [status, setStatus] = useState<AuthState['status']>(api.signedIn ? 'checking' : 'signedOut');

  useEffect(() => {
    const off = api.onSessionEnded(() => {
      setMe(null);
      setStatus('signedOut');
      queries.clear();
    });
    if (api.signedIn) {
      // A reload: the refresh token of this tab opens a new access token.
      api
        .me()
        .then((who) => {
          setMe(who);
          setStatus('signedIn');
        })
        .catch(() => setStatus('signedOut'));
    }
    return off;
  }, [api, queries]);

  const login = useCallback(
    async (username: string, password: string) => {
      await api.login(username, password);
      setMe(await api.me());
      setStatus('signedIn');
    },
    [api],
  );

  const logout = useCallback(async () => {
    try {
      await api.logout();
    } finally {
      setMe(null);
      setStatus('signedOut');
      queries.clear();
    }
  }, [api, queries]);

  const can = useCallback((permission: string) => me?.permissions.includes(permission) ?? false, [me]);

  const value = useMemo(() => ({ api, me, status, login, logout, can }), [api, me, status, login, logout, can]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const state = useContext(AuthContext);
  if (state === null) throw new Error('useAuth outside AuthProvider');
  return state;
}

export function useApi(): Api {
  return useAuth().api;
}
