import type { ReactNode } from 'react';
import { Navigate, NavLink, Route, Routes, useLocation } from 'react-router';

import { useAuth } from './app/auth';
import { useLive } from './app/live';
import { AccountPage } from './pages/Account';
import { BacktestsPage } from './pages/Backtests';
import { DashboardPage } from './pages/Dashboard';
import { LoginPage } from './pages/Login';
import { RiskPage } from './pages/Risk';
import { StrategiesPage } from './pages/Strategies';
import { TradingPage } from './pages/Trading';

const NAV = [
  { to: '/', label: 'Dashboard' },
  { to: '/trading', label: 'Trading' },
  { to: '/strategies', label: 'Strategies' },
  { to: '/backtests', label: 'Backtests' },
  { to: '/risk', label: 'Risk' },
  { to: '/account', label: 'Account' },
];

function Shell({ children }: { children: ReactNode }) {
  const { me, logout } = useAuth();
  const live = useLive();
  return (
    <div className="shell">
      <header className="topbar">
        <span className="brand">TradeForge</span>
        <nav aria-label="Main">
          {NAV.map((item) => (
            <NavLink key={item.to} to={item.to} end={item.to === '/'}>
              {item.label}
            </NavLink>
          ))}
        </nav>
        <span className={`live live-${live.status}`} title="live updates over the WebSocket" data-testid="live-status">
          {live.status}
        </span>
        <span className="who" data-testid="who">
          {me?.username} <span className="muted">({me?.role})</span>
        </span>
        <button type="button" className="ghost" onClick={() => void logout()}>
          Log out
        </button>
      </header>
      <main>{children}</main>
      <footer className="footer muted small">
        TradeForge · charts by{' '}
        <a href="https://www.tradingview.com/lightweight-charts/" target="_blank" rel="noreferrer">
          TradingView Lightweight Charts™
        </a>
      </footer>
    </div>
  );
}

function RequireAuth({ children }: { children: ReactNode }) {
  const { status } = useAuth();
  const location = useLocation();
  if (status === 'checking') return <p className="muted center">Restoring your session…</p>;
  if (status === 'signedOut') return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  return <Shell>{children}</Shell>;
}

export function App() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route path="/" element={<RequireAuth><DashboardPage /></RequireAuth>} />
      <Route path="/trading" element={<RequireAuth><TradingPage /></RequireAuth>} />
      <Route path="/strategies" element={<RequireAuth><StrategiesPage /></RequireAuth>} />
      <Route path="/backtests" element={<RequireAuth><BacktestsPage /></RequireAuth>} />
      <Route path="/backtests/:jobId" element={<RequireAuth><BacktestsPage /></RequireAuth>} />
      <Route path="/risk" element={<RequireAuth><RiskPage /></RequireAuth>} />
      <Route path="/account" element={<RequireAuth><AccountPage /></RequireAuth>} />
      <Route path="*" element={<RequireAuth><p className="muted">No such page.</p></RequireAuth>} />
    </Routes>
  );
}
