import './styles.css';

import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';

import { Api } from './api/api';
import { isNotFound } from './api/client';
import { sessionTokenStore } from './api/client';
import { App } from './App';
import { AuthProvider } from './app/auth';
import { LiveProvider } from './app/live';

const api = new Api({ store: sessionTokenStore });
const queries = new QueryClient({
  defaultOptions: {
    queries: {
      // A route this server lacks (404) is final; others are retried twice.
      retry: (count, error) => !isNotFound(error) && count < 2,
      staleTime: 2_000,
      refetchOnWindowFocus: false,
    },
  },
});

const root = document.getElementById('root');
if (root === null) throw new Error('no #root element');
createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queries}>
      <AuthProvider api={api}>
        <LiveProvider>
          <BrowserRouter>
            <App />
          </BrowserRouter>
        </LiveProvider>
      </AuthProvider>
    </QueryClientProvider>
  </StrictMode>,
);
